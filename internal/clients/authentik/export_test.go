package authentik

import "time"

// SetReadClock makes the shared reads of the connector's clients tell the
// time by now.
func (c *Connector) SetReadClock(now func() time.Time) {
	c.reads.mu.Lock()
	defer c.reads.mu.Unlock()
	c.reads.now = now
}
