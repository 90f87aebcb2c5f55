package handler

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
)

// The seller's Accurate settings over the JSON admin API: the same
// admin.Service operations the console's settings page calls.

// MaxMappingBytes is the largest mapping a PUT takes: far above a mapping
// of hundreds of stores and SKUs.
const MaxMappingBytes = 256 << 10

const mimeYAML = "application/yaml"

func (a *api) getMapping(c echo.Context) error {
	seller := c.Param("seller")
	m, err := a.Admin.Mapping(c.Request().Context(), scope(c), seller)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+m.Version+`"`)
	if wantsYAML(c.Request().Header.Get(echo.HeaderAccept)) {
		return c.Blob(http.StatusOK, mimeYAML+"; charset=utf-8", []byte(m.YAML))
	}
	return c.JSON(http.StatusOK, m)
}

// wantsYAML tells whether Accept asks for the YAML file (application/yaml,
// application/x-yaml or text/yaml) before JSON.
func wantsYAML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mimeYAML, "application/x-yaml", "text/yaml":
			return true
		case echo.MIMEApplicationJSON:
			return false
		}
	}
	return false
}

func (a *api) putMapping(c echo.Context) error {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON && mt != mimeYAML && mt != "application/x-yaml" && mt != "text/yaml" {
		return &statusError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json ({\"mapping\": {...}}) or application/yaml (the mapping file itself)"}
	}
	body, err := readLimited(c, MaxMappingBytes)
	if err != nil {
		return err
	}
	yamlText := body
	if mt == echo.MIMEApplicationJSON {
		if yamlText, err = admin.MappingFromJSON(body); err != nil {
			return err
		}
	}
	seller := c.Param("seller")
	c.Set(sellerKey, seller)
	saved, err := a.Admin.SaveMapping(req.Context(), scope(c), seller, yamlText, ifMatch(req.Header.Get("If-Match")))
	if err != nil {
		return err
	}
	a.logger(c).Info("mapping saved", zap.String("version", saved.Version), zap.Strings("changed", saved.Changed))
	c.Response().Header().Set("ETag", `"`+saved.Version+`"`)
	return c.JSON(http.StatusOK, saved)
}

// ifMatch is the version an If-Match header names, its quotes and W/ off.
func ifMatch(h string) string {
	h = strings.TrimSpace(h)
	h = strings.TrimPrefix(h, "W/")
	return strings.Trim(h, `"`)
}

// readLimited reads a body of at most limit bytes; a longer one is 413.
func readLimited(c echo.Context, limit int64) ([]byte, error) {
	req := c.Request()
	tooLarge := &statusError{status: http.StatusRequestEntityTooLarge, msg: "the body is larger than 256 KiB: a mapping is far smaller; send the mapping file alone"}
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	var over *http.MaxBytesError
	if errors.As(err, &over) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &statusError{status: http.StatusBadRequest, msg: "could not read the request body: " + err.Error()}
	}
	return body, nil
}

// previewMapping answers the documents an event would send to Accurate
// under a draft mapping; nothing is saved or sent.
func (a *api) previewMapping(c echo.Context) error {
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return &statusError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json ({\"mapping\": {...}, \"event\": \"<event key>\"})"}
	}
	body, err := readLimited(c, MaxMappingBytes)
	if err != nil {
		return err
	}
	yamlText, event, err := admin.ParsePreviewRequest(body)
	if err != nil {
		return err
	}
	p, err := a.Admin.PreviewMapping(req.Context(), scope(c), c.Param("seller"), yamlText, event)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *api) mappingVersions(c echo.Context) error {
	vs, err := a.Admin.Versions(c.Request().Context(), scope(c), c.Param("seller"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": vs})
}

func (a *api) restoreMapping(c echo.Context) error {
	seller := c.Param("seller")
	c.Set(sellerKey, seller)
	saved, err := a.Admin.Restore(c.Request().Context(), scope(c), seller, c.Param("version"))
	if err != nil {
		return err
	}
	a.logger(c).Info("mapping version restored", zap.String("restored", c.Param("version")), zap.String("version", saved.Version))
	return c.JSON(http.StatusOK, saved)
}

func (a *api) accurateChoices(c echo.Context) error {
	rows, more, err := a.Admin.Choices(c.Request().Context(), scope(c), c.Param("seller"), c.Param("list"), c.QueryParam("q"))
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []admin.ChoiceRow{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": rows, "more": more})
}
