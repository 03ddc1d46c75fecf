package incidents

import (
	"context"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// privacyBatch is how many incidents one transaction records the channel privacy of:
// small enough that the writer is never held long enough to delay an ack.
const privacyBatch = 500

// privacyRetry is how long after Slack failed to list its channels the privacy of
// older channels is asked for again.
const privacyRetry = 10 * time.Minute

// learnChannelPrivacy finds out, once, whether the channels of incidents recorded
// before their privacy was kept are public or private, so that lists need not ask Slack
// about each (handlers' viewer): one pass over Slack's channel list, then the incidents
// in small batches, newest first. A channel the bot cannot see counts as private, as it
// does everywhere else. Slack failing is tried again after privacyRetry; until then a
// list asks Slack about those channels itself.
func (s *Service) learnChannelPrivacy(ctx context.Context) {
	for {
		err := s.learnChannelPrivacyOnce(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("cannot learn whether older incidents' channels are private; lists ask Slack about them meanwhile",
			"err", err, "retry_in", privacyRetry)
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.After(privacyRetry):
		}
	}
}

func (s *Service) learnChannelPrivacyOnce(ctx context.Context) error {
	unknown, err := s.store.UnknownChannelPrivacy(ctx, privacyBatch)
	if err != nil || len(unknown) == 0 {
		return err
	}
	channels, err := s.slack.Channels(ctx)
	if err != nil {
		return fmt.Errorf("list channels: %w", err)
	}
	public := make(map[string]bool, len(channels))
	for _, c := range channels {
		public[c.ID] = !c.Private
	}
	learned := 0
	for len(unknown) > 0 {
		for i := range unknown {
			unknown[i].Privacy = runbook.ChannelPrivate
			if public[unknown[i].Channel] {
				unknown[i].Privacy = runbook.ChannelPublic
			}
		}
		if err := s.store.SetChannelPrivacy(ctx, unknown); err != nil {
			return err
		}
		learned += len(unknown)
		if unknown, err = s.store.UnknownChannelPrivacy(ctx, privacyBatch); err != nil {
			return err
		}
	}
	s.log.Info("learned whether older incidents' channels are private", "incidents", learned, "channels_seen", len(channels))
	return nil
}
