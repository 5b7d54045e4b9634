package node

import (
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// setChangeLogs gives the node's leaders the change log of every table:
// its view from the table's directory record (Table.change_view), its
// retention from the changelog.retention setting, the table's override
// first, and at least the recovery period of a table with point-in-time
// recovery. The settings catch-up job calls it again, so that a view set
// on another node is taken up here within settingsCatchUp.
func (n *Node) setChangeLogs() { n.setChangeLogsOf(n.dir.Snapshot().Tables) }

// setChangeLogsOf gives the node's leaders the change logs of tables.
func (n *Node) setChangeLogsOf(tables []*partitapb.Table) {
	if n.settings == nil {
		return
	}
	n.changeLogMu.Lock()
	defer n.changeLogMu.Unlock()
	n.changeLogs.SetRetention(n.settings.Get("changelog.retention").Duration())
	retention := n.settings.TableOverrides("changelog.retention")
	logs := make(map[uint64]replica.TableChangeLog, len(tables))
	for _, t := range tables {
		// A record older than the one installed (a cached directory not
		// yet refreshed since this node changed the view, a refresh that
		// read before the change) does not take the view back.
		if prev, ok := n.changeLogRevs[t.GetId()]; ok && t.GetRevision() < prev.Revision {
			logs[t.GetId()] = prev
			continue
		}
		tc := replica.TableChangeLog{View: t.GetChangeView(), Revision: t.GetRevision()}
		if v, ok := retention[t.GetName()]; ok {
			tc.Retention = v.Duration()
		}
		if pitr := t.GetPointInTimeRecovery(); pitr != nil {
			// Point-in-time recovery needs its whole window kept.
			tc.Retention = max(tc.Retention, n.settings.Get("changelog.retention").Duration(), recoveryPeriod(pitr))
		}
		// Every table is installed, one without a view too: its
		// revision outranks a router's older hint, and it keeps its
		// retention (records written before its view was cleared are
		// still trimmed by it).
		logs[t.GetId()] = tc
	}
	// Read only from now on: the leaders and the next call share it.
	n.changeLogRevs = logs
	n.changeLogs.SetTables(logs)
}
