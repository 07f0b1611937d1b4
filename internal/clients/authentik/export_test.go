package authentik

import "time"

// SetReadClock makes the shared reads tell the time by now, until the test
// calls the function it returns.
func SetReadClock(now func() time.Time) func() {
	reads.mu.Lock()
	defer reads.mu.Unlock()
	old := reads.now
	reads.now = now
	return func() {
		reads.mu.Lock()
		defer reads.mu.Unlock()
		reads.now = old
	}
}
