package handler

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
)

// reconciliation is GET /admin/sellers/:seller/reconciliation?from=&to=
// [&store=][&format=csv]: JSON, or CSV when format=csv or the caller
// accepts text/csv.
func (a *api) reconciliation(c echo.Context) error {
	seller := c.Param("seller")
	format := c.QueryParam("format")
	switch format {
	case "", "json", "csv":
	default:
		return &admin.InputError{Field: "format", Msg: "must be json or csv", Problem: admin.ProblemChoice, Value: format}
	}
	if format == "" && strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		format = "csv"
	}
	rep, err := a.Admin.Reconciliation(c.Request().Context(), scope(c), admin.ReconciliationQuery{
		Seller: seller, From: c.QueryParam("from"), To: c.QueryParam("to"), Store: c.QueryParam("store")})
	if err != nil {
		return err
	}
	c.Set(sellerKey, seller)
	a.logger(c).Info("reconciliation reported", zap.String("from", rep.From), zap.String("to", rep.To),
		zap.Int("accurate_requests", rep.Requests), zap.Int("unreadable", len(rep.Unreadable)))
	if format != "csv" {
		return c.JSON(http.StatusOK, rep.View())
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="reconciliation-`+rep.Seller+"-"+rep.From+"-"+rep.To+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	return rep.WriteCSV(c.Response())
}
