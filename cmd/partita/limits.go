package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/node"
)

// Open files a node keeps for itself: Pebble's table cache (up to 1,000
// files by default), its WAL, manifest and lock, raft peers and the
// process's own. Client connections get what the limit leaves.
const storageFileReserve = 1536

// Bounds of the derived connection limits: the admin endpoint serves
// operators and scrapers, and idle API connections cost memory and garbage
// collection (each holds a goroutine and its buffers): with 20,000 idle
// clients, 64 writers got 263 writes/s from a node keeping 18,400 of them
// and 1,038 from one keeping 2,048 (docs/overload.md).
const (
	maxDerivedAdminConns = 64
	maxDerivedAPIConns   = 4096
)

// connBudget splits an open-file limit between storage, the admin
// endpoint and the API. Under a small limit, storage keeps half.
func connBudget(limit uint64) (api, admin int) {
	reserve := min(storageFileReserve, limit/2)
	rest := limit - reserve
	admin = int(min(maxDerivedAdminConns, rest/8))
	api = int(min(maxDerivedAPIConns, rest-uint64(admin)))
	return max(api, 1), max(admin, 1)
}

// limitFlags are the flags bounding what clients can hold of a node.
type limitFlags struct {
	maxConns    int
	maxInflight int
	readTimeout time.Duration
	writeTO     time.Duration
	idleTimeout time.Duration
	capacity    node.CapacityConfig
}

// register adds the flags to cmd; enforce is the default of
// --enforce-capacity.
func (f *limitFlags) register(cmd *cobra.Command, enforce bool) {
	api := node.DefaultAPILimits()
	fl := cmd.Flags()
	c := node.DefaultCapacityConfig()
	fl.BoolVar(&f.capacity.Enforce, "enforce-capacity", enforce,
		"throttle requests beyond their table's provisioned capacity or their partition's limits (ProvisionedThroughputExceededException)")
	fl.Float64Var(&f.capacity.PartitionReadUnits, "partition-max-rcu", c.PartitionReadUnits,
		"read units per second one partition serves, whatever its table's mode (0: no limit)")
	fl.Float64Var(&f.capacity.PartitionWriteUnits, "partition-max-wcu", c.PartitionWriteUnits,
		"write units per second one partition serves, whatever its table's mode (0: no limit)")
	fl.Float64Var(&f.capacity.ControlPlaneRate, "control-plane-rate", c.ControlPlaneRate,
		"table operations (CreateTable, UpdateTable, DeleteTable, tagging) accepted per second; beyond, ThrottlingException (0: no limit)")
	fl.IntVar(&f.capacity.ControlPlaneBurst, "control-plane-burst", c.ControlPlaneBurst,
		"table operations accepted at once after a quiet period")
	fl.IntVar(&f.maxConns, "max-connections", 0,
		"open DynamoDB API connections; at the limit the longest idle one is closed (0: from the open-file limit, keeping files for storage)")
	fl.IntVar(&f.maxInflight, "max-inflight-requests", node.DefaultConfig().MaxInflight,
		"DynamoDB requests served at once; beyond, clients get ThrottlingException and retry")
	fl.DurationVar(&f.readTimeout, "http-read-timeout", api.ReadTimeout, "time a client has to send a whole request, body included")
	fl.DurationVar(&f.writeTO, "http-write-timeout", api.WriteTimeout, "time from the end of a request's headers to the end of its response")
	fl.DurationVar(&f.idleTimeout, "http-idle-timeout", api.IdleTimeout, "an idle keep-alive connection is closed after it")
}

// apply raises the process's open-file limit as far as allowed, and sets
// cfg's limits from the flags and from what that limit leaves.
func (f *limitFlags) apply(cfg *node.Config, log *slog.Logger) {
	limit, err := raiseOpenFileLimit()
	if err != nil {
		log.Warn("cannot raise the open-file limit", "err", err)
	}
	api, admin := connBudget(limit)
	if f.maxConns > 0 {
		api = f.maxConns
	}
	cfg.APILimits.MaxConns, cfg.AdminLimits.MaxConns = api, admin
	cfg.APILimits.ReadTimeout, cfg.APILimits.WriteTimeout, cfg.APILimits.IdleTimeout = f.readTimeout, f.writeTO, f.idleTimeout
	cfg.MaxInflight = f.maxInflight
	cfg.Capacity = f.capacity
	log.Info("client limits", "enforce_capacity", f.capacity.Enforce, "open_file_limit", limit, "api_max_connections", api, "admin_max_connections", admin,
		"max_inflight_requests", f.maxInflight)
}

// defaultOpenFileLimit is assumed where the limit cannot be read.
const defaultOpenFileLimit = 1024
