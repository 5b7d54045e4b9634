package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/partitadb/partita/settings"
)

// The /config/ routes: the cluster's run-time settings (package settings)
// and their overrides, which a node checks and proposes to the directory,
// and this node's effective values.
//
//	GET  /config                the catalogue and the overrides in force
//	GET  /config/history        the versions kept, oldest first
//	POST /config/set?key=K&value=V[&scope=S][&reason=R][&version=N]
//	POST /config/unset?key=K[&scope=S][&reason=R][&version=N]
//	POST /config/rollback[?version=N][&reason=R]   back to version N (default: the one before)
//	POST /config/edits[?reason=R][&version=N]      body: a JSON array of ConfigEdit, made one version
//	GET  /debug/config          this node's effective settings and their sources
//
// version= makes a change a compare-and-set: refused (409) unless that
// version is in force.

// Settings is what the /config/ routes need of a node.
type Settings interface {
	ConfigOverrides(ctx context.Context) (ConfigState, error)
	ConfigHistory(ctx context.Context) ([]ConfigChange, error)
	// ConfigChange checks edits against the catalogue and makes them the
	// next version (expected: the version that must be in force, 0: any).
	ConfigChange(ctx context.Context, edits []settings.Edit, expected uint64, by, reason string) (ConfigChange, error)
	// ConfigRollback makes a new version equal to version (0: the one
	// before the version in force).
	ConfigRollback(ctx context.Context, version uint64, by, reason string) (ConfigChange, error)
	ConfigEffective(ctx context.Context) ConfigEffective
}

// SettingInfo describes one setting of the catalogue.
type SettingInfo struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Default  string   `json:"default"`
	Min      string   `json:"min,omitempty"`
	Max      string   `json:"max,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Doc      string   `json:"doc"`
	Readers  string   `json:"readers"`
	Live     bool     `json:"live"`
	PerTable bool     `json:"per_table,omitempty"`
	TestOnly bool     `json:"test_only,omitempty"`
}

// SettingInfos describes every setting of reg, by name.
func SettingInfos(reg *settings.Registry) []SettingInfo {
	out := make([]SettingInfo, 0, len(reg.Names()))
	for _, n := range reg.Names() {
		s, _ := reg.Lookup(n)
		out = append(out, SettingInfo{Name: s.Name, Kind: s.Kind.String(), Default: s.DefaultValue().String(), Min: s.Min, Max: s.Max,
			Choices: s.Choices, Unit: s.Unit, Doc: s.Doc, Readers: s.Readers, Live: s.Live, PerTable: s.PerTable, TestOnly: s.TestOnly})
	}
	return out
}

// ConfigOverride is one override in force.
type ConfigOverride struct {
	Key     string `json:"key"`
	Scope   string `json:"scope"`
	Value   string `json:"value"`
	Version uint64 `json:"version"`
}

// ConfigState is the catalogue and the overrides in force.
type ConfigState struct {
	Version   uint64           `json:"version"`
	Settings  []SettingInfo    `json:"settings"`
	Overrides []ConfigOverride `json:"overrides"`
}

// ConfigEdit is one edit of a version.
type ConfigEdit struct {
	Key   string `json:"key"`
	Scope string `json:"scope"`
	Value string `json:"value,omitempty"`
	Unset bool   `json:"unset,omitempty"`
}

// ConfigChange is one version of the overrides.
type ConfigChange struct {
	Version   uint64           `json:"version"`
	Edits     []ConfigEdit     `json:"edits"`
	Author    string           `json:"author"`
	Reason    string           `json:"reason,omitempty"`
	Time      time.Time        `json:"time"`
	Overrides []ConfigOverride `json:"overrides"` // in force after it
}

// ConfigValue is one effective setting of a node.
type ConfigValue struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// ConfigEffective is a node's effective settings.
type ConfigEffective struct {
	Node     uint64        `json:"node"`
	Zone     string        `json:"zone,omitempty"`
	Version  uint64        `json:"version"` // of the overrides in force on the node
	Settings []ConfigValue `json:"settings"`
}

// ConfigHandler returns the /config/ and /debug/config routes served by c.
func ConfigHandler(c Settings) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		st, err := c.ConfigOverrides(r.Context())
		reply(w, st, err)
	})
	mux.HandleFunc("GET /config/history", func(w http.ResponseWriter, r *http.Request) {
		h, err := c.ConfigHistory(r.Context())
		reply(w, h, err)
	})
	for _, verb := range []string{"set", "unset"} {
		mux.HandleFunc("POST /config/"+verb, func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			expected, err := versionParam(q.Get("version"))
			if err != nil {
				reply(w, nil, err)
				return
			}
			scope, err := settings.ParseScope(q.Get("scope"))
			if err != nil {
				reply(w, nil, fmt.Errorf("%w: %w", ErrBadRequest, err))
				return
			}
			if q.Get("key") == "" || (verb == "set" && !q.Has("value")) {
				reply(w, nil, fmt.Errorf("%w: %s needs key= and, to set, value=", ErrBadRequest, verb))
				return
			}
			e := settings.Edit{Key: q.Get("key"), Scope: scope, Value: q.Get("value"), Unset: verb == "unset"}
			ch, err := c.ConfigChange(r.Context(), []settings.Edit{e}, expected, by(r), q.Get("reason"))
			reply(w, ch, settingsError(err))
		})
	}
	mux.HandleFunc("POST /config/edits", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		expected, err := versionParam(q.Get("version"))
		if err != nil {
			reply(w, nil, err)
			return
		}
		var in []ConfigEdit
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || len(in) == 0 {
			reply(w, nil, fmt.Errorf("%w: the body is a JSON array of edits ({key, scope, value, unset})", ErrBadRequest))
			return
		}
		edits := make([]settings.Edit, 0, len(in))
		for _, e := range in {
			scope, err := settings.ParseScope(e.Scope)
			if err != nil {
				reply(w, nil, fmt.Errorf("%w: %w", ErrBadRequest, err))
				return
			}
			edits = append(edits, settings.Edit{Key: e.Key, Scope: scope, Value: e.Value, Unset: e.Unset})
		}
		ch, err := c.ConfigChange(r.Context(), edits, expected, by(r), q.Get("reason"))
		reply(w, ch, settingsError(err))
	})
	mux.HandleFunc("POST /config/rollback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v, err := versionParam(q.Get("version"))
		if err != nil {
			reply(w, nil, err)
			return
		}
		ch, err := c.ConfigRollback(r.Context(), v, by(r), q.Get("reason"))
		reply(w, ch, settingsError(err))
	})
	mux.HandleFunc("GET /debug/config", func(w http.ResponseWriter, r *http.Request) {
		reply(w, c.ConfigEffective(r.Context()), nil)
	})
	return mux
}

func versionParam(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: version=%q is not a version number", ErrBadRequest, s)
	}
	return v, nil
}

// settingsError marks the settings package's refusals as bad requests.
func settingsError(err error) error {
	for _, e := range []error{settings.ErrUnknown, settings.ErrBadValue, settings.ErrBounds, settings.ErrNotLive, settings.ErrBadScope, ErrNoVersion} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	}
	return err
}

// ErrNoVersion is a rollback to a version the directory does not keep.
var ErrNoVersion = errors.New("admin: no such settings version")
