package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// AdminHandler returns the JSON admin surface of the manager:
//
//	GET  /jobs                 {"jobs": [JobInfo...]}
//	GET  /jobs/{name}          JobInfo plus "timeline": [CycleRecord...]
//	POST /jobs/{name}/pause    JobInfo after pausing
//	POST /jobs/{name}/resume   JobInfo after resuming
//	POST /jobs/{name}/run      JobInfo after asking for a cycle (202)
//
// Errors are {"error": {"code": ..., "message": ...}}: an unknown job or
// path is 404 NotFound, a wrong method 405 MethodNotAllowed. Mount it under
// a prefix with http.StripPrefix.
func (m *Manager) AdminHandler() http.Handler {
	return http.HandlerFunc(m.serveAdmin)
}

// jobDetail is the body of GET /jobs/{name}.
type jobDetail struct {
	JobInfo
	Timeline []CycleRecord `json:"timeline"`
}

// adminError is the body of every error response.
type adminError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// actions are the POST verbs on a job.
var actions = map[string]struct {
	do     func(*Manager, string) error
	status int
}{
	"pause":  {(*Manager).Pause, http.StatusOK},
	"resume": {(*Manager).Resume, http.StatusOK},
	"run":    {(*Manager).RunNow, http.StatusAccepted},
}

func (m *Manager) serveAdmin(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] != "jobs" || len(parts) > 3 {
		writeError(w, http.StatusNotFound, "NotFound", "no such path: "+r.URL.Path)
		return
	}
	switch len(parts) {
	case 1:
		m.serveList(w, r)
	case 2:
		m.serveJob(w, r, parts[1])
	default:
		m.serveAction(w, r, parts[1], parts[2])
	}
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, map[string][]JobInfo{"jobs": m.List()})
}

func (m *Manager) serveJob(w http.ResponseWriter, r *http.Request, name string) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	info, err := m.Info(name)
	if err != nil {
		writeErr(w, err)
		return
	}
	tl, _ := m.Timeline(name)
	writeJSON(w, http.StatusOK, jobDetail{JobInfo: info, Timeline: tl})
}

func (m *Manager) serveAction(w http.ResponseWriter, r *http.Request, name, verb string) {
	a, ok := actions[verb]
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "no such action: "+verb)
		return
	}
	if !allow(w, r, http.MethodPost) {
		return
	}
	if err := a.do(m, name); err != nil {
		writeErr(w, err)
		return
	}
	info, err := m.Info(name)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, a.status, info)
}

// allow answers 405 unless r uses method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" not allowed; use "+method)
	return false
}

// writeErr translates a manager error to its HTTP status: the one table.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnknownJob):
		writeError(w, http.StatusNotFound, "UnknownJob", err.Error())
	case errors.Is(err, ErrStopped):
		writeError(w, http.StatusConflict, "Stopped", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var body adminError
	body.Error.Code, body.Error.Message = code, msg
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
