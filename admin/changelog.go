package admin

import (
	"fmt"
	"net/http"
)

// ChangeViewResult is the answer of a change of a table's change view:
// the view now in the table's record.
type ChangeViewResult struct {
	Table string `json:"table"`
	View  string `json:"view"`
}

// handleChangeView serves POST /cluster/tables/{name}/change-view?view=V
// (V: NONE, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES).
func handleChangeView(mux *http.ServeMux, c Cluster) {
	mux.HandleFunc("POST /cluster/tables/{name}/change-view", func(w http.ResponseWriter, r *http.Request) {
		name, view := r.PathValue("name"), r.URL.Query().Get("view")
		if name == "" || view == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/tables/{name}/change-view?view=V, got table %q, view %q",
				ErrBadRequest, name, view))
			return
		}
		res, err := c.SetChangeView(r.Context(), name, view)
		reply(w, res, err)
	})
}
