package accurate

import (
	"context"
	"net/http"
	"net/url"
)

// CheckCredentials asks Accurate for one faktur id, the cheapest call that
// needs both the API token and the signature: a nil error means Accurate
// accepts them, ClassAuth that it refuses them, any other class that it
// could not tell now.
func (c *Client) CheckCredentials(ctx context.Context) error {
	_, err := c.call(ctx, "sales-invoice/list", http.MethodGet, url.Values{"fields": {"id"}, "sp.pageSize": {"1"}}, nil)
	return err
}
