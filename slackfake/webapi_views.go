package slackfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

const maxViewStack = 3

// view is a modal opened with views.open or views.push.
type view struct {
	id, userID               string
	hash, rootID, previousID string
	def                      map[string]any // as the app sent it, blocks normalized
	open                     bool
	errors                   map[string]string
}

// View is a snapshot of a modal the app opened.
type View struct {
	ID              string
	UserID          string // the user the modal was opened for
	Type            string // "modal"
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Title           string
	Hash            string
	RootViewID      string
	PreviousViewID  string
	Blocks          json.RawMessage
	// Open is false once the modal was closed (by a submission acked
	// without errors, or by "clear").
	Open bool
	// Errors holds the errors of the last view_submission acked with
	// response_action "errors", by block_id.
	Errors map[string]string
}

func (v *view) snapshot() View {
	blocks, _ := json.Marshal(v.def["blocks"])
	return View{ID: v.id, UserID: v.userID, Type: str(v.def, "type"), CallbackID: str(v.def, "callback_id"),
		PrivateMetadata: str(v.def, "private_metadata"), ExternalID: str(v.def, "external_id"),
		Title: str(obj(v.def, "title"), "text"), Hash: v.hash, RootViewID: v.rootID,
		PreviousViewID: v.previousID, Blocks: blocks, Open: v.open, Errors: maps.Clone(v.errors)}
}

// View returns a snapshot of a view by ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.views[id]; v != nil {
		return v.snapshot(), true
	}
	return View{}, false
}

// Views returns snapshots of every view the app opened, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, s.views[id].snapshot())
	}
	return out
}

// newTrigger issues a trigger_id for userID.
func (s *Server) newTrigger(userID string) string {
	id := newTriggerID()
	s.triggers[id] = &trigger{userID: userID, created: time.Now()}
	return id
}

func newViewHash() string { return fmt.Sprintf("%d.%s", time.Now().Unix(), randAlnum(8)) }

func viewErr(msg, ptr string) *apiError {
	return failMsg("invalid_arguments", fmt.Sprintf("[ERROR] %s [json-pointer:%s]", msg, ptr))
}

// parseView validates a modal view argument.
func parseView(raw string) (map[string]any, *apiError) {
	if raw == "" {
		return nil, failMsg("invalid_arguments", "[ERROR] missing required field: view")
	}
	var def map[string]any
	if decodeJSON([]byte(raw), &def) != nil {
		return nil, failMsg("invalid_arguments", "[ERROR] failed to parse view")
	}
	if str(def, "type") != "modal" {
		return nil, viewErr("must be one of modal", "/view/type")
	}
	for _, k := range []string{"title", "submit", "close"} {
		t := obj(def, k)
		if t == nil {
			if k == "title" {
				return nil, viewErr("missing required field: title", "/view")
			}
			continue
		}
		if str(t, "type") != "plain_text" {
			return nil, viewErr("must be plain_text", "/view/"+k+"/type")
		}
		if n := utf8.RuneCountInString(str(t, "text")); n == 0 || n > 24 {
			return nil, viewErr("must be less than 25 characters", "/view/"+k+"/text")
		}
	}
	blocks, ok := def["blocks"].([]any)
	if !ok {
		return nil, viewErr("missing required field: blocks", "/view")
	}
	if err := normalizeBlocks(blocks, maxViewBlocks, "/view/blocks"); err != nil {
		err.code = "invalid_arguments"
		return nil, err
	}
	hasInput := slices.ContainsFunc(blocks, func(b any) bool { return str(b.(map[string]any), "type") == "input" })
	if hasInput && obj(def, "submit") == nil {
		return nil, viewErr("must provide submit when the view has input blocks", "/view")
	}
	for k, limit := range map[string]int{"callback_id": 255, "external_id": 255, "private_metadata": 3000} {
		if utf8.RuneCountInString(str(def, k)) > limit {
			return nil, viewErr(fmt.Sprintf("must be less than %d characters", limit+1), "/view/"+k)
		}
	}
	return def, nil
}

// viewJSON renders a view as views.open and view payloads carry it.
func (s *Server) viewJSON(v *view, state map[string]any) map[string]any {
	out := maps.Clone(v.def)
	for k, def := range map[string]any{"private_metadata": "", "callback_id": "", "external_id": "",
		"clear_on_close": false, "notify_on_close": false, "close": nil, "submit": nil} {
		if _, ok := out[k]; !ok {
			out[k] = def
		}
	}
	if state == nil {
		state = map[string]any{}
	}
	var prev any
	if v.previousID != "" {
		prev = v.previousID
	}
	out["id"], out["team_id"], out["state"], out["hash"] = v.id, s.teamID, map[string]any{"values": state}, v.hash
	out["previous_view_id"], out["root_view_id"], out["app_id"] = prev, v.rootID, s.appID
	out["app_installed_team_id"], out["bot_id"] = s.teamID, s.botID
	return out
}

// exchangeTrigger validates and uses a trigger_id.
func (s *Server) exchangeTrigger(id string) (*trigger, *apiError) {
	t := s.triggers[id]
	switch {
	case t == nil:
		return nil, failMsg("invalid_arguments", "invalid `trigger_id`")
	case s.opts.TriggerTTL > 0 && time.Since(t.created) > s.opts.TriggerTTL:
		return nil, fail("expired_trigger_id")
	case t.used:
		return nil, fail("exchanged_trigger_id")
	}
	t.used = true
	return t, nil
}

// openView validates the arguments of views.open and views.push.
func (s *Server) openViewArgs(q *apiRequest) (map[string]any, *trigger, *apiError) {
	if q.str("trigger_id") == "" && q.str("interactivity_pointer") == "" {
		return nil, nil, failMsg("invalid_arguments", "[ERROR] missing required field: trigger_id")
	}
	def, err := parseView(q.str("view"))
	if err != nil {
		return nil, nil, err
	}
	if ext := str(def, "external_id"); ext != "" && s.viewByExternalID(ext) != nil {
		return nil, nil, fail("duplicate_external_id")
	}
	tid := q.str("trigger_id")
	if tid == "" {
		tid = q.str("interactivity_pointer")
	}
	t, err := s.exchangeTrigger(tid)
	if err != nil {
		return nil, nil, err
	}
	return def, t, nil
}

func (s *Server) viewByExternalID(ext string) *view {
	for _, id := range s.viewOrder {
		if v := s.views[id]; str(v.def, "external_id") == ext {
			return v
		}
	}
	return nil
}

func (s *Server) addView(v *view) {
	s.views[v.id] = v
	s.viewOrder = append(s.viewOrder, v.id)
}

// openStack returns the user's open views, root first.
func (s *Server) openStack(userID string) []*view {
	var out []*view
	for _, id := range s.viewOrder {
		if v := s.views[id]; v.open && v.userID == userID {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) viewsOpen(q *apiRequest) (map[string]any, *apiError) {
	def, t, err := s.openViewArgs(q)
	if err != nil {
		return nil, err
	}
	for _, v := range s.openStack(t.userID) {
		v.open = false // a new modal replaces whatever the user had open
	}
	v := &view{id: s.newID("V"), userID: t.userID, hash: newViewHash(), def: def, open: true}
	v.rootID = v.id
	s.addView(v)
	return map[string]any{"view": s.viewJSON(v, nil)}, nil
}

func (s *Server) viewsPush(q *apiRequest) (map[string]any, *apiError) {
	def, t, err := s.openViewArgs(q)
	if err != nil {
		return nil, err
	}
	stack := s.openStack(t.userID)
	if len(stack) >= maxViewStack {
		return nil, fail("push_limit_reached")
	}
	v := &view{id: s.newID("V"), userID: t.userID, hash: newViewHash(), def: def, open: true}
	v.rootID = v.id
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		v.rootID, v.previousID = top.rootID, top.id
	}
	s.addView(v)
	return map[string]any{"view": s.viewJSON(v, nil)}, nil
}

func (s *Server) viewsUpdate(q *apiRequest) (map[string]any, *apiError) {
	var v *view
	if id := q.str("view_id"); id != "" {
		v = s.views[id]
	} else if ext := q.str("external_id"); ext != "" {
		v = s.viewByExternalID(ext)
	} else {
		return nil, failMsg("invalid_arguments", "[ERROR] missing required field: view_id")
	}
	if v == nil || !v.open {
		return nil, fail("not_found")
	}
	if h := q.str("hash"); h != "" && h != v.hash {
		return nil, fail("hash_conflict")
	}
	def, err := parseView(q.str("view"))
	if err != nil {
		return nil, err
	}
	v.def, v.hash, v.errors = def, newViewHash(), nil
	return map[string]any{"view": s.viewJSON(v, nil)}, nil
}
