package fleet

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
)

// credentials knows whether Accurate accepts ACCURATE_API_TOKEN and
// ACCURATE_SIGNATURE_SECRET: checked at start without holding the start up,
// again while refused, and on every answer Accurate gives the workers. A
// refusal is logged as an error naming the variables and keeps /readyz at
// 503 with the reason until Accurate accepts them.
type credentials struct {
	check func(ctx context.Context) error
	log   *zap.Logger
	// words is what the log and /readyz say while Accurate refuses;
	// nil is errCredentialsRefused (the single seller's variables).
	words   error
	mu      sync.Mutex
	refused error // Accurate's last refusal; nil while accepted or not known
}

// errCredentialsRefused is what /readyz and the log say while Accurate
// refuses the credentials.
//
//lint:ignore ST1005 Accurate is a name and the sentence is shown as is
var errCredentialsRefused = errors.New("Accurate refuses the credentials: check ACCURATE_API_TOKEN (the API token of the seller's database) " +
	"and ACCURATE_SIGNATURE_SECRET (the app's signature secret), correct them and restart the service")

// observe takes the outcome of every Accurate call (the client's Observe).
func (c *credentials) observe(endpoint, outcome string) {
	switch outcome {
	case "ok":
		c.set(nil)
	case string(accurate.ClassAuth):
		c.set(errors.New("Accurate answered " + endpoint + " with HTTP 401/403"))
	}
}

func (c *credentials) set(refusal error) {
	c.mu.Lock()
	was := c.refused
	c.refused = refusal
	c.mu.Unlock()
	switch {
	case refusal != nil && was == nil:
		c.log.Error(c.refusedWords().Error(), zap.NamedError("accurate", refusal))
	case refusal == nil && was != nil:
		c.log.Info("Accurate accepts the credentials again")
	}
}

// ready is /readyz's check.
func (c *credentials) ready(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused != nil {
		return c.refusedWords()
	}
	return nil
}

func (c *credentials) refusedWords() error {
	if c.words != nil {
		return c.words
	}
	return errCredentialsRefused
}

// watch checks the credentials now and then every interval while Accurate
// refuses them, until ctx ends.
func (c *credentials) watch(ctx context.Context, interval time.Duration) {
	for {
		c.checkOnce(ctx)
		c.mu.Lock()
		refused := c.refused != nil
		c.mu.Unlock()
		wait := interval
		if !refused {
			wait = 10 * interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (c *credentials) checkOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := c.check(ctx)
	switch {
	case err == nil:
		c.set(nil)
	case accurate.IsAuth(err):
		c.set(err)
	case ctx.Err() != nil:
	case errors.Is(err, accurate.ErrLimitUnavailable):
		c.log.Warn("could not check the Accurate credentials now (Redis, which holds the shared rate limit, did not answer); checking again later", zap.Error(err))
	default:
		c.log.Warn("could not check the Accurate credentials now (Accurate did not answer); checking again later", zap.Error(err))
	}
}
