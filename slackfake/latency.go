package slackfake

import "time"

// SetLatency makes the server answer every Web API call and response_url post d after
// it handled it, as a slow Slack does; 0 answers at once again. A call's effect is
// visible (a message posted) before its answer arrives, as on Slack when an answer is
// slow to come back.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// lag waits out the latency set by SetLatency, or until the server closes.
func (s *Server) lag() {
	d := time.Duration(s.latency.Load())
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.quit:
	}
}
