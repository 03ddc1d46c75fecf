package slackfake

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// maxResponseURLUses is how many times Slack accepts a response_url.
const maxResponseURLUses = 5

const (
	hookSlash       = "slash"
	hookInteractive = "interactive"
)

// responseHook is a response_url, guarded by Server.mu.
type responseHook struct {
	id        string
	kind      string // hookSlash or hookInteractive
	channelID string
	userID    string
	messageTS string // interactive: the message the action came from
	ephemeral bool   // interactive: that message is ephemeral
	uses      int
	created   time.Time
	// last message posted through this URL, for replace/delete_original on
	// slash command responses
	lastTS        string
	lastEphemeral bool
}

func (s *Server) newHookLocked(kind, channelID, userID, messageTS string, ephemeral bool) *responseHook {
	h := &responseHook{id: randAlnum(24), kind: kind, channelID: channelID, userID: userID,
		messageTS: messageTS, ephemeral: ephemeral, created: time.Now()}
	s.hooks[h.id] = h
	return h
}

func (s *Server) hookURL(h *responseHook) string { return s.base + "/response/" + h.id }

// flexBool accepts true, false, "true" and "false", as Slack does.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	*b = flexBool(strings.Trim(string(data), `"`) == "true")
	return nil
}

// responseMsg is a message posted to a response_url or acked to a slash
// command.
type responseMsg struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal flexBool        `json:"replace_original"`
	DeleteOriginal  flexBool        `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// serveResponseURL answers POST /response/{id}.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	call := APICall{At: time.Now(), Method: "response_url", URL: s.base + r.URL.Path}
	rep := s.answerResponseURL(r, &call)
	call.Status, call.Error = rep.status, rep.code
	s.recordCall(call)
	s.lag()
	rep.write(w)
}

func (s *Server) answerResponseURL(r *http.Request, call *APICall) reply {
	reject := func(status int, code string) reply {
		return reply{status: status, code: code, body: map[string]any{"ok": false, "error": code}}
	}
	if r.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "invalid_method")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return reject(http.StatusBadRequest, "invalid_payload")
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return reject(http.StatusBadRequest, "invalid_payload")
		}
		body = []byte(form.Get("payload"))
	}
	var msg responseMsg
	if err := json.Unmarshal(body, &msg); err != nil {
		return reject(http.StatusBadRequest, "invalid_payload")
	}
	call.Text = msg.Text

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits.degraded(time.Now()) {
		return rateLimited(time.Second)
	}
	// A response_url past its life is answered 404 with the reason as a plain string,
	// as Slack answers its webhooks' errors; slack-go reports it as a StatusCodeError.
	h := s.hooks[r.PathValue("id")]
	if h == nil || s.opts.ResponseURLTTL > 0 && time.Since(h.created) > s.opts.ResponseURLTTL {
		return gone("expired_url")
	}
	call.Channel = h.channelID
	if h.uses >= maxResponseURLUses {
		return gone("used_url")
	}
	h.uses++
	aerr := s.applyResponseLocked(h, msg)
	s.notifyLocked()
	if aerr != nil {
		return reject(http.StatusBadRequest, aerr.code)
	}
	return reply{status: http.StatusOK, body: map[string]any{"ok": true}}
}

// gone is Slack's answer to a response_url that is unknown, expired or used up.
func gone(code string) reply {
	return reply{status: http.StatusNotFound, plain: code, code: code}
}

// applyResponseLocked applies a response message: a new ephemeral or
// in-channel message, or a replacement or deletion of the original.
func (s *Server) applyResponseLocked(h *responseHook, msg responseMsg) *apiError {
	c := s.channels[h.channelID]
	if c == nil {
		return fail("channel_not_found")
	}
	var ct content
	ct.text = msg.Text
	if b := strings.TrimSpace(string(msg.Blocks)); b != "" && b != "null" {
		blocks, err := parseBlocks(b, maxMessageBlocks, "/blocks")
		if err != nil {
			return err
		}
		ct.blocks = blocks
	}
	origTS, origEph := h.lastTS, h.lastEphemeral
	if h.kind == hookInteractive {
		origTS, origEph = h.messageTS, h.ephemeral
	}
	if msg.DeleteOriginal {
		if origTS == "" {
			return nil
		}
		if origEph {
			c.ephemerals = deleteTS(c.ephemerals, origTS)
		} else {
			c.deleteMessage(origTS)
		}
		return nil
	}
	if ct.text == "" && len(ct.blocks) == 0 {
		return fail("no_text")
	}
	if utf8.RuneCountInString(ct.text) > maxTextLen {
		return fail("msg_too_long")
	}
	if msg.ReplaceOriginal && origTS != "" {
		var m *message
		if origEph {
			m = c.findEphemeral(origTS)
		} else {
			m = c.findMessage(origTS)
		}
		if m != nil {
			m.text, m.blocks = ct.text, ct.blocks
			return nil
		}
	}
	if msg.ResponseType == "in_channel" {
		if c.archived {
			return fail("is_archived")
		}
		m := s.storeBotMessage(c, ct, msg.ThreadTS, false)
		h.lastTS, h.lastEphemeral = m.ts, false
		return nil
	}
	m := s.storeEphemeral(c, h.userID, ct, msg.ThreadTS)
	h.lastTS, h.lastEphemeral = m.ts, true
	return nil
}

func deleteTS(list []*message, ts string) []*message {
	out := list[:0]
	for _, m := range list {
		if m.ts != ts {
			out = append(out, m)
		}
	}
	clear(list[len(out):])
	return out
}
