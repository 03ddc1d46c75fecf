package slackfake

import (
	"cmp"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APICall records one Web API or response_url call, for transcripts.
type APICall struct {
	At      time.Time
	Method  string // e.g. "chat.postMessage"; "response_url" for response URLs
	Channel string // the channel ID the call addressed, if any
	Text    string // the text argument, if any
	Status  int    // HTTP status of the answer
	Error   string // Slack error code, or "" when ok
	// URL is the response_url a "response_url" call was made to (Delivery.ResponseURL).
	URL string
}

type tokenKind int

const (
	botToken tokenKind = iota
	appToken
)

// apiRequest is one parsed Web API request.
type apiRequest struct {
	method string
	params map[string]string // JSON non-string values are kept as JSON text
	token  string
	// channel is set by handlers to the channel the call addressed, for the
	// call log.
	channel string
}

func (q *apiRequest) str(key string) string { return q.params[key] }

func (q *apiRequest) has(key string) bool {
	_, ok := q.params[key]
	return ok
}

func (q *apiRequest) boolean(key string) bool {
	switch strings.ToLower(q.params[key]) {
	case "1", "true":
		return true
	}
	return false
}

// intParam parses an integer argument, falling back to def when absent or
// invalid.
func (q *apiRequest) intParam(key string, def int) int {
	n, err := strconv.Atoi(q.params[key])
	if err != nil {
		return def
	}
	return n
}

// list splits a comma-separated argument.
func (q *apiRequest) list(key string) []string {
	var out []string
	for p := range strings.SplitSeq(q.params[key], ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// apiError is a Slack error answer: {"ok":false,"error":code,…extra}.
type apiError struct {
	code  string
	extra map[string]any
}

func fail(code string) *apiError { return &apiError{code: code} }

// failMsg is an error with response_metadata.messages, as Slack sends for
// invalid_arguments and invalid_blocks.
func failMsg(code string, messages ...string) *apiError {
	return &apiError{code: code, extra: map[string]any{"response_metadata": map[string]any{"messages": messages}}}
}

type handler func(s *Server, q *apiRequest) (map[string]any, *apiError)

type methodSpec struct {
	h      handler
	token  tokenKind
	noAuth bool // callable without a token
}

// methods is the Web API. Handlers run with s.mu held.
var methods = map[string]methodSpec{
	"api.test":                 {h: (*Server).apiTest, noAuth: true},
	"auth.test":                {h: (*Server).authTest},
	"apps.connections.open":    {h: (*Server).appsConnectionsOpen, token: appToken},
	"chat.postMessage":         {h: (*Server).chatPostMessage},
	"chat.update":              {h: (*Server).chatUpdate},
	"chat.postEphemeral":       {h: (*Server).chatPostEphemeral},
	"chat.delete":              {h: (*Server).chatDelete},
	"chat.getPermalink":        {h: (*Server).chatGetPermalink},
	"pins.add":                 {h: (*Server).pinsAdd},
	"conversations.create":     {h: (*Server).conversationsCreate},
	"conversations.archive":    {h: (*Server).conversationsArchive},
	"conversations.unarchive":  {h: (*Server).conversationsUnarchive},
	"conversations.invite":     {h: (*Server).conversationsInvite},
	"conversations.setTopic":   {h: (*Server).conversationsSetTopic},
	"conversations.setPurpose": {h: (*Server).conversationsSetPurpose},
	"conversations.info":       {h: (*Server).conversationsInfo},
	"conversations.history":    {h: (*Server).conversationsHistory},
	"conversations.replies":    {h: (*Server).conversationsReplies},
	"conversations.list":       {h: (*Server).conversationsList},
	"conversations.join":       {h: (*Server).conversationsJoin},
	"conversations.members":    {h: (*Server).conversationsMembers},
	"conversations.open":       {h: (*Server).conversationsOpen},
	"users.conversations":      {h: (*Server).usersConversations},
	"users.info":               {h: (*Server).usersInfo},
	"users.list":               {h: (*Server).usersList},
	"users.lookupByEmail":      {h: (*Server).usersLookupByEmail},
	"usergroups.list":          {h: (*Server).usergroupsList},
	"usergroups.users.list":    {h: (*Server).usergroupsUsersList},
	"views.open":               {h: (*Server).viewsOpen},
	"views.update":             {h: (*Server).viewsUpdate},
	"views.push":               {h: (*Server).viewsPush},
}

// reply is an HTTP answer, written after the call is recorded.
type reply struct {
	status     int
	body       any    // JSON body, or
	plain      string // a plain-text body
	retryAfter time.Duration
	code       string // Slack error code, for the call log
}

func (r reply) write(w http.ResponseWriter) {
	if r.status == http.StatusTooManyRequests {
		secs := int((r.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if r.body == nil {
		http.Error(w, r.plain, r.status)
		return
	}
	writeJSON(w, r.status, r.body)
}

func rateLimited(wait time.Duration) reply {
	return reply{status: http.StatusTooManyRequests, retryAfter: wait, code: "ratelimited",
		body: map[string]any{"ok": false, "error": "ratelimited"}}
}

// serveAPI answers /api/{method}.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	q := &apiRequest{method: r.PathValue("method")}
	at := time.Now()
	rep := s.answerAPI(r, q)
	s.recordCall(APICall{At: at, Method: q.method, Channel: q.channel, Text: q.params["text"],
		Status: rep.status, Error: rep.code})
	s.lag()
	rep.write(w)
}

func (s *Server) answerAPI(r *http.Request, q *apiRequest) reply {
	params, perr := parseParams(r)
	q.params = params
	q.token = bearer(r)
	if q.token == "" {
		q.token = params["token"]
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[q.method]++
	if f, ok := s.limits.takeFault(q.method); ok {
		s.log.Debug("slackfake: injected fault", "method", q.method, "status", f.Status, "error", f.Code)
		return f.reply()
	}
	if s.limits.degraded(time.Now()) {
		return rateLimited(time.Second)
	}
	spec, known := methods[q.method]
	var aerr *apiError
	switch {
	case !known:
		aerr = &apiError{code: "unknown_method", extra: map[string]any{"req_method": q.method}}
	case perr != nil:
		aerr = fail("invalid_form_data")
	case !spec.noAuth:
		aerr = s.authorize(q.token, spec.token)
	}
	var out map[string]any
	if aerr == nil {
		if wait, limited := s.limits.take(s, q); limited {
			s.log.Debug("slackfake: rate limited", "method", q.method, "retry_after", wait)
			return rateLimited(wait)
		}
		out, aerr = spec.h(s, q)
		s.notifyLocked()
	}
	if aerr != nil {
		body := map[string]any{"ok": false, "error": aerr.code}
		for k, v := range aerr.extra {
			body[k] = v
		}
		s.log.Debug("slackfake: api error", "method", q.method, "error", aerr.code)
		return reply{status: http.StatusOK, body: body, code: aerr.code}
	}
	if out == nil {
		out = map[string]any{}
	}
	out["ok"] = true
	s.log.Debug("slackfake: api ok", "method", q.method, "channel", q.channel)
	return reply{status: http.StatusOK, body: out}
}

// authorize checks the token against the kind the method needs.
func (s *Server) authorize(token string, want tokenKind) *apiError {
	switch {
	case token == "":
		return fail("not_authed")
	case want == botToken && token == s.botToken, want == appToken && token == s.appToken:
		return nil
	case token == s.botToken, token == s.appToken:
		return fail("not_allowed_token_type")
	default:
		return fail("invalid_auth")
	}
}

func (s *Server) recordCall(call APICall) {
	s.mu.Lock()
	s.callLog = append(s.callLog, call)
	hook := s.opts.OnAPICall
	s.notifyLocked() // a Wait on calls, failed ones included, wakes
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}
}

// Calls reports how many times a Web API method was called, failed and
// rate-limited calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// APICalls returns every Web API and response_url call so far, oldest first.
func (s *Server) APICalls() []APICall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callLog)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// parseParams merges the query string with a form or JSON body. JSON string
// values are unquoted; other JSON values are kept as JSON text.
func parseParams(r *http.Request) (map[string]string, error) {
	params := make(map[string]string)
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			return params, err
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return params, nil
		}
		var fields map[string]json.RawMessage
		if err := decodeJSON(body, &fields); err != nil {
			return params, err
		}
		for k, raw := range fields {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				params[k] = str
			} else if string(raw) != "null" {
				params[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(10 << 20); err != nil && err != http.ErrNotMultipart {
			return params, err
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	}
	return params, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, err := marshal(body)
	if err != nil {
		b = []byte(`{"ok":false,"error":"internal_error"}`)
	}
	_, _ = w.Write(b)
}

// apiTest echoes its arguments, as api.test does.
func (s *Server) apiTest(q *apiRequest) (map[string]any, *apiError) {
	if e := q.str("error"); e != "" {
		return nil, fail(e)
	}
	args := map[string]any{}
	for k, v := range q.params {
		if k != "token" {
			args[k] = v
		}
	}
	return map[string]any{"args": args}, nil
}

func (s *Server) authTest(q *apiRequest) (map[string]any, *apiError) {
	return map[string]any{
		"url": "https://" + TeamDomain + ".slack.com/", "team": TeamName, "user": BotName,
		"team_id": s.teamID, "user_id": s.botUserID, "bot_id": s.botID, "is_enterprise_install": false,
	}, nil
}

// reply is the answer Slack gives for an injected failure.
func (f Failure) reply() reply {
	if f.Code == "" {
		if f.Status == http.StatusTooManyRequests {
			return rateLimited(time.Second)
		}
		return reply{status: f.Status, plain: http.StatusText(f.Status)}
	}
	body := map[string]any{"ok": false, "error": f.Code}
	if f.Code == "missing_scope" {
		body["needed"], body["provided"] = f.Needed, f.Provided
	}
	return reply{status: cmp.Or(f.Status, http.StatusOK), body: body, code: f.Code}
}
