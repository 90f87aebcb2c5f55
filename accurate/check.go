package accurate

import (
	"context"
	"net/http"
	"net/url"
)

// CheckCredentials asks Accurate for one customer id, a cheap call that
// needs both the API token and the signature and touches no document: a nil error means Accurate
// accepts them, ClassAuth that it refuses them, any other class that it
// could not tell now.
func (c *Client) CheckCredentials(ctx context.Context) error {
	_, err := c.call(ctx, "customer/list", http.MethodGet, url.Values{"fields": {"id"}, "sp.pageSize": {"1"}}, nil)
	return err
}
