package console

import (
	"html/template"
	"net/url"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/reconcile"
)

var pageNames = []string{"signin", "error", "overview", "failed", "search", "event", "sellers", "reconciliation", "settings"}

// parsePages parses each page with the layout and the shared rows; the
// templates are embedded, so a mistake in one is a programming error found
// by the first test.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"eventURL":       func(key string) string { return eventURL("", key) },
		"sellerEventURL": eventURL,
		"failedURL":      func(seller string) string { return "/console/failed?" + url.Values{"seller": {seller}}.Encode() },
		"searchURL":      func(order string) string { return "/console/search?" + url.Values{"order": {order}}.Encode() },
		"langURL": func(path, code string) string {
			u, err := url.Parse(path)
			if err != nil {
				return "/console?lang=" + code
			}
			q := u.Query()
			q.Set("lang", code)
			u.RawQuery = q.Encode()
			return u.String()
		},
		"rows":        func(l lang, rows []row) map[string]any { return map[string]any{"L": l, "Rows": rows} },
		"int64":       func(n int) int64 { return int64(n) },
		"sideOf":      func(l lang, s reconcile.SideView) map[string]any { return map[string]any{"L": l, "S": s} },
		"settingsURL": settingsURL,
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/rows.html", "templates/"+name+".html"))
	}
	return out
}

// eventURL is the page of one seller's event; the default seller's has no
// seller in it.
func eventURL(seller, key string) string {
	v := url.Values{"key": {key}}
	if seller != "" && seller != admin.DefaultSeller {
		v.Set("seller", seller)
	}
	return "/console/event?" + v.Encode()
}
