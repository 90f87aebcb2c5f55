package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/sellers"
)

// The seller's Accurate settings page: its mapping as a plain form, each
// field named by its mapping path, choices from the seller's own Accurate.
// It calls the same admin operations as the JSON API.

// settingsField is one field of the form.
type settingsField struct {
	Path    string
	Label   string
	Value   string
	Choices []admin.ChoiceRow // nil: a text field (the list is long, or Accurate did not answer)
	Bool    bool              // a yes/no select
	Problem string
	Failed  int // failed events that name this path
}

// settingsGroup is one heading of the form.
type settingsGroup struct {
	Title  string
	Fields []settingsField
}

type settingsData struct {
	Seller   string
	Version  string
	Source   string
	Failing  []admin.Problem
	Groups   []settingsGroup
	Versions []sellers.Version
	// Saved is the version a save made; Replay how many failed events it
	// addresses, ReplayKeys the paths they name.
	Saved      *admin.Saved
	Replay     int
	ReplayKeys []string
	Unchecked  []string
	// Preview is the documents of an event under the form's values;
	// Event the key asked for (empty: the newest).
	Preview *previewView
	Event   string
}

// settingsForm is what a POST brings back to the page: the values posted,
// the problems of a refused save, a preview.
type settingsForm struct {
	posted  map[string]string
	refused *admin.MappingErrors
	preview *admin.Preview
	event   string
	err     string // a preview that could not be made, in words
}

func settingsURL(seller string) string {
	return "/console/sellers/" + url.PathEscape(seller) + "/settings"
}

// amountKinds are the amounts' keys in the order the file lists them.
var amountKinds = []string{"shipping_fee", "platform_rebate", "voucher_seller", "service_fee", "fulfillment_fee", "shipping_difference", "payment_difference"}

func (c *console) settings(w http.ResponseWriter, r *http.Request, q request) {
	c.settingsPage(w, r, q, http.StatusOK, settingsForm{})
}

// settingsPage renders the form from the current version and, after a
// POST, what it brought back.
func (c *console) settingsPage(w http.ResponseWriter, r *http.Request, q request, status int, form settingsForm) {
	seller, m, ok := c.mappingOf(w, r, q)
	if !ok {
		return
	}
	ctx := r.Context()
	d := settingsData{Seller: seller, Version: m.Version, Source: m.Source, Event: form.event}
	if ss, err := c.Admin.Sellers(ctx, admin.Scope{Seller: seller}); err == nil && len(ss) == 1 {
		for _, p := range ss[0].Problems {
			if p.Failed > 0 {
				d.Failing = append(d.Failing, p)
			}
		}
	}
	var err error
	if d.Versions, err = c.Admin.Versions(ctx, q.scope, seller); err != nil {
		c.failErr(w, r, err)
		return
	}
	lists := &choiceLists{c: c, ctx: ctx, scope: q.scope, seller: seller}
	d.Groups = settingsGroups(q.lang, lists, m.Mapping, d.Failing)
	for gi := range d.Groups {
		for fi := range d.Groups[gi].Fields {
			f := &d.Groups[gi].Fields[fi]
			if v, ok := form.posted[f.Path]; ok {
				f.Value = v
			}
			if form.refused != nil {
				for _, p := range form.refused.Problems {
					if p.Path == f.Path {
						f.Problem = p.Message
					}
				}
			}
		}
	}
	if form.preview != nil {
		d.Preview = previewOf(form.preview, q.lang, lists)
	}
	p := page{Title: q.lang.T("settings.title"), Nav: "sellers", Data: &d, Error: form.err}
	if form.refused != nil {
		p.Error = q.lang.T("settings.refused")
		for _, pr := range form.refused.Problems {
			if !d.hasField(pr.Path) {
				p.Error += " " + pr.Path + ": " + pr.Message
			}
		}
	}
	if v := r.URL.Query().Get("saved"); v != "" {
		d.Saved = &admin.Saved{Version: v}
		d.ReplayKeys = r.URL.Query()["key"]
		d.Replay, _ = strconv.Atoi(r.URL.Query().Get("n"))
		d.Unchecked = r.URL.Query()["unchecked"]
		p.Notice = q.lang.F("settings.saved", v)
	}
	if r.URL.Query().Get("done") == "replayed" {
		p.Notice = q.lang.F("settings.replayed", r.URL.Query().Get("n"))
	}
	if d.Preview != nil {
		p.Notice = q.lang.T("preview.notice")
	}
	c.render(w, r, status, "settings", q, p)
}

// mappingOf is the current mapping of the page's seller, or the error
// page.
func (c *console) mappingOf(w http.ResponseWriter, r *http.Request, q request) (string, *admin.MappingView, bool) {
	seller := r.PathValue("seller")
	m, err := c.Admin.Mapping(r.Context(), q.scope, seller)
	if err != nil {
		c.failErr(w, r, err)
		return seller, nil, false
	}
	return seller, m, true
}

func (d *settingsData) hasField(path string) bool {
	for _, g := range d.Groups {
		for _, f := range g.Fields {
			if f.Path == path {
				return true
			}
		}
	}
	return false
}

// choiceLists reads the lists of the seller's Accurate a page shows, each
// once.
type choiceLists struct {
	c      *console
	ctx    context.Context
	scope  admin.Scope
	seller string
	rows   map[string][]admin.ChoiceRow
}

// get is a list's records; nil when Accurate did not answer or the list is
// long (the field is then a text field).
func (l *choiceLists) get(list string) []admin.ChoiceRow {
	if rows, ok := l.rows[list]; ok {
		return rows
	}
	rows, more, err := l.c.Admin.Choices(l.ctx, l.scope, l.seller, list, "")
	if err != nil || more {
		rows = nil
	}
	if l.rows == nil {
		l.rows = map[string][]admin.ChoiceRow{}
	}
	l.rows[list] = rows
	return rows
}

// name is what the seller's Accurate calls the record numbered no, or "".
func (l *choiceLists) name(list, no string) string {
	for _, row := range l.get(list) {
		if row.No == no {
			return row.Name
		}
	}
	return ""
}

// settingsGroups lists the form's fields: every store, warehouse, item and
// amount of the mapping, and the stores and warehouses failed events name
// but the mapping lacks.
func settingsGroups(l lang, lists *choiceLists, m map[string]any, failing []admin.Problem) []settingsGroup {
	choices := lists.get
	failedOn := map[string]int{}
	for _, p := range failing {
		failedOn[p.Key] = p.Failed
	}
	field := func(path, label, list string, value any) settingsField {
		f := settingsField{Path: path, Label: label, Value: str(value), Failed: failedOn[path]}
		if list != "" {
			f.Choices = choices(list)
		}
		return f
	}
	sub := func(key string) map[string]any { v, _ := m[key].(map[string]any); return v }

	var stores settingsGroup
	stores.Title = l.T("settings.stores")
	storeMap := sub("stores")
	ids := keysOf(storeMap)
	for _, p := range failing { // stores.<id>.<field> the mapping lacks
		if rest, ok := strings.CutPrefix(p.Key, "stores."); ok {
			if i := strings.LastIndex(rest, "."); i > 0 && !slices.Contains(ids, rest[:i]) {
				ids = append(ids, rest[:i])
			}
		}
	}
	for _, id := range ids {
		st, _ := storeMap[id].(map[string]any)
		stores.Fields = append(stores.Fields,
			field("stores."+id+".customer_no", l.F("settings.customer", id, str(st["name"])), "customers", st["customer_no"]),
			field("stores."+id+".bank_no", l.F("settings.bank", id), "accounts", st["bank_no"]),
			field("stores."+id+".branch", l.F("settings.branch", id), "branches", st["branch"]))
	}
	var whs settingsGroup
	whs.Title = l.T("settings.warehouses")
	whMap := sub("warehouses")
	wids := keysOf(whMap)
	for _, p := range failing {
		if id, ok := strings.CutPrefix(p.Key, "warehouses."); ok && !slices.Contains(wids, id) {
			wids = append(wids, id)
		}
	}
	for _, id := range wids {
		whs.Fields = append(whs.Fields, field("warehouses."+id, l.F("settings.warehouse", id), "warehouses", whMap[id]))
	}
	var items settingsGroup
	items.Title = l.T("settings.items")
	itemMap := sub("items")
	for _, sku := range keysOf(itemMap) {
		items.Fields = append(items.Fields, field("items."+sku, l.F("settings.item", sku), "items", itemMap[sku]))
	}
	var amounts settingsGroup
	amounts.Title = l.T("settings.amounts")
	am := sub("amounts")
	for _, k := range amountKinds {
		amounts.Fields = append(amounts.Fields, field("amounts."+k, l.T("settings.amount."+k), "accounts", am[k]))
	}
	tax := sub("tax")
	taxes := settingsGroup{Title: l.T("settings.tax"), Fields: []settingsField{
		{Path: "tax.enabled", Label: l.T("settings.tax.enabled"), Value: str(tax["enabled"]), Bool: true},
		{Path: "tax.inclusive", Label: l.T("settings.tax.inclusive"), Value: str(tax["inclusive"]), Bool: true},
	}}
	out := []settingsGroup{amounts, stores, whs}
	if len(items.Fields) > 0 {
		out = append(out, items)
	}
	return append(out, taxes)
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// formFields are the fields of the settings form that are not mapping
// paths.
var formFields = []string{"csrf", "version", "event"}

// draft is the mapping the form's values make of the current version: the
// values posted, and the mapping file (or why it cannot be made).
func (c *console) draft(w http.ResponseWriter, r *http.Request, q request) (seller string, values map[string]string, yamlText []byte, err error, ok bool) {
	seller, m, ok := c.mappingOf(w, r, q)
	if !ok {
		return seller, nil, nil, nil, false
	}
	values = map[string]string{}
	for k, v := range r.PostForm {
		if slices.Contains(formFields, k) || len(v) == 0 {
			continue
		}
		values[k] = v[0]
	}
	yamlText, err = admin.MappingWith([]byte(m.YAML), values)
	return seller, values, yamlText, err, true
}

// saveSettings saves the form as a new version (If-Match: the version the
// form was read from), or shows the form again with each problem beside
// its field.
func (c *console) saveSettings(w http.ResponseWriter, r *http.Request, q request) {
	seller, values, yamlText, err, ok := c.draft(w, r, q)
	if !ok {
		return
	}
	var saved *admin.Saved
	if err == nil {
		saved, err = c.Admin.SaveMapping(r.Context(), q.scope, seller, yamlText, r.PostFormValue("version"))
	}
	c.afterSave(w, r, q, seller, values, saved, err)
}

// previewSettings shows the form again, as posted, with the documents an
// event would make under its values; nothing is saved or sent.
func (c *console) previewSettings(w http.ResponseWriter, r *http.Request, q request) {
	seller, values, yamlText, err, ok := c.draft(w, r, q)
	if !ok {
		return
	}
	form := settingsForm{posted: values, event: strings.TrimSpace(r.PostFormValue("event"))}
	if err == nil {
		form.preview, err = c.Admin.PreviewMapping(r.Context(), q.scope, seller, yamlText, form.event)
	}
	status := http.StatusOK
	switch ans := admin.AnswerOf(err); {
	case err == nil:
	case errors.As(err, &form.refused):
		status = http.StatusUnprocessableEntity
	case ans.Code == admin.CodeNotFound || ans.Code == admin.CodeRejected:
		// The event asked for is not there: say so above the form.
		status, form.err = ans.Status, q.lang.F("preview.noevent", ans.Message)
	default:
		c.failErr(w, r, err)
		return
	}
	c.settingsPage(w, r, q, status, form)
}

// afterSave answers a save or a restore: the form again with the problems
// beside their fields, or the page with the new version and the replay of
// the failed events it addresses (those whose failure names a path it
// changed).
func (c *console) afterSave(w http.ResponseWriter, r *http.Request, q request, seller string, posted map[string]string, saved *admin.Saved, err error) {
	var refused *admin.MappingErrors
	if errors.As(err, &refused) {
		c.settingsPage(w, r, q, http.StatusUnprocessableEntity, settingsForm{posted: posted, refused: refused})
		return
	}
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.Logger.Info("mapping saved from the console", zap.String("seller", seller), zap.String("version", saved.Version), zap.Strings("changed", saved.Changed))
	n := 0
	var keys []string
	if ss, err := c.Admin.Sellers(r.Context(), admin.Scope{Seller: seller}); err == nil && len(ss) == 1 {
		for _, p := range ss[0].Problems {
			if p.Failed > 0 && slices.Contains(saved.Changed, p.Key) {
				n += p.Failed
				keys = append(keys, p.Key)
			}
		}
	}
	v := url.Values{"saved": {saved.Version}, "n": {strconv.Itoa(n)}, "key": keys, "unchecked": saved.Unchecked}
	http.Redirect(w, r, settingsURL(seller)+"?"+v.Encode(), http.StatusSeeOther)
}

// replaySettings replays the failed events naming the paths a save changed.
func (c *console) replaySettings(w http.ResponseWriter, r *http.Request, q request) {
	seller := r.PathValue("seller")
	done, err := c.Admin.ReplayFailedFor(r.Context(), q.scope, seller, r.PostForm["key"])
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.Logger.Info("failed events replayed after a mapping change", zap.String("seller", seller), zap.Int("queued", len(done.Queued)))
	http.Redirect(w, r, settingsURL(seller)+"?"+url.Values{"done": {"replayed"}, "n": {strconv.Itoa(len(done.Queued))}}.Encode(), http.StatusSeeOther)
}

// restoreSettings makes a kept version the newest again.
func (c *console) restoreSettings(w http.ResponseWriter, r *http.Request, q request) {
	seller := r.PathValue("seller")
	saved, err := c.Admin.Restore(r.Context(), q.scope, seller, r.PostFormValue("restore"))
	c.afterSave(w, r, q, seller, nil, saved, err)
}
