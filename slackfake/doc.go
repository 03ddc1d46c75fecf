// Package slackfake is a local, in-memory Slack workspace that speaks Slack's
// real wire protocols, so that an unmodified Slack client — in particular
// github.com/slack-go/slack and its socketmode package — can be run against it
// without knowing it is not talking to Slack.
//
// It is meant for end-to-end tests of a Slack bot and for offline demos. A
// [Server] listens on 127.0.0.1 on a random port and serves:
//
//   - the Web API under [Server.APIURL] ("http://127.0.0.1:PORT/api/"), with
//     Slack's JSON shapes, error codes, token rules, HTTP 429 rate limiting
//     and injectable faults;
//   - Socket Mode: apps.connections.open hands out a ws:// URL; the server
//     sends hello, pings, envelopes (events_api, slash_commands, interactive),
//     records acknowledgements, redelivers unacknowledged Events API
//     envelopes, and can ask clients to reconnect or drop them;
//   - response_url endpoints for slash commands and interactive payloads.
//
// Point a client at it with:
//
//	srv, _ := slackfake.New(slackfake.Options{})
//	defer srv.Close()
//	api := slack.New(srv.BotToken(),
//		slack.OptionAppLevelToken(srv.AppToken()),
//		slack.OptionAPIURL(srv.APIURL()))
//	client := socketmode.New(api)
//
// Tests seed the workspace ([Server.AddUser], [Server.AddChannel],
// [Server.AddUserGroup]), act as users ([Server.SlashCommand],
// [Server.Mention], [Server.ClickButton], [Server.SubmitView]), inspect what
// the bot did ([Server.Messages], [Server.Ephemerals], [Server.Views],
// [Server.Acks]) and wait for it without sleeping ([Server.Wait]).
//
// # Fidelity notes
//
// The emulator follows Slack's documented and observed behaviour where it is
// known; a few simplifications are deliberate and listed here:
//
//   - Only the bot token and the app-level token exist. A bot method called
//     with the app-level token (or apps.connections.open called with the bot
//     token) fails with not_allowed_token_type; any other token fails with
//     invalid_auth, a missing one with not_authed.
//   - A private channel the bot is not a member of is invisible to it: every
//     method answers channel_not_found, as Slack does. Public channels accept
//     posts from non-members (chat:write.public) but reading their history or
//     changing their topic answers not_in_channel.
//   - Only Events API envelopes are redelivered automatically, as on Slack.
//     Slack retries after about 1 and 5 minutes; here every retry comes one
//     AckTimeout after the previous attempt so that tests stay fast. Slash
//     commands and interactive payloads are never redelivered automatically
//     (Slack shows the user an error instead); [Server.Redeliver] can still
//     resend any envelope.
//   - Trigger IDs expire after Options.TriggerTTL (3 s, as on Slack) and can
//     be used once.
//   - A response_url accepts five uses within Options.ResponseURLTTL (30
//     minutes, as on Slack); after that it answers 404 with expired_url or
//     used_url as a plain-text body.
//   - [Server.RateLimitAllUntil] has every Web API call and response_url post
//     answer 429 (Retry-After: 1) for a while, like a workspace having a bad day.
//   - Slack's system messages (channel_join, channel_topic, channel_purpose,
//     channel_archive, channel_unarchive) are stored in the channel history
//     when the corresponding Web API method is called, not when the
//     workspace is seeded.
//   - Block Kit validation covers the limits bots usually hit (50 blocks per
//     message, 100 per view, section text 3000, header 150, fields, button
//     text, duplicate block_id/action_id); blocks that are not a JSON array
//     answer invalid_blocks_format, rule violations invalid_blocks.
package slackfake
