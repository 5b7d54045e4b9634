// Package lease elects the active Doctor. Every node with the Doctor
// enabled runs an Elector; exactly one holds the Doctor lease, a record of
// the directory (partitapb.DoctorLease: holder, epoch, expiry), and is
// active. The others are standbys: they ask for the lease every
// RenewInterval and get it once it is free or expired.
//
//	standby ──acquire (free/expired)──▶ active, epoch e+1
//	active  ──renew every RenewInterval──▶ active, epoch e
//	active  ──no renewal for RenewDeadline──▶ standby (before the
//	                                          lease expires elsewhere)
//	active  ──Release (clean stop)──▶ lease free: a standby takes it
//
// The epoch rises at every takeover; directory commands the Doctor
// issues carry it (Command.doctor_epoch) and the meta partition refuses
// those of an older epoch, so a Doctor that lost its lease (paused,
// partitioned away) cannot act on the directory after its successor
// started.
//
// Time: a renewal proposed at t (the proposer's clock, carried in the
// command) extends the lease to t + Duration for everyone; its holder
// counts itself active only until t + RenewDeadline on its own monotonic
// clock. Clocks of different nodes may therefore differ by up to
// Duration - RenewDeadline (2 s by default) without two Doctors ever
// counting themselves active at once; fencing by epoch guards the
// directory even beyond that.
package lease
