package transport

import "github.com/prometheus/client_golang/prometheus"

// metrics are a GRPC transport's Prometheus collectors.
type metrics struct {
	messagesSent     prometheus.Counter
	messagesReceived prometheus.Counter
	messagesDropped  *prometheus.CounterVec
	bytesSent        prometheus.Counter
	bytesReceived    prometheus.Counter
	batchesSent      prometheus.Counter
	connects         prometheus.Counter
	unreachable      prometheus.Counter

	snapshotsSent         *prometheus.CounterVec
	snapshotsReceived     *prometheus.CounterVec
	snapshotBytesSent     prometheus.Counter
	snapshotBytesReceived prometheus.Counter
	snapshotChunksSent    prometheus.Counter
	snapshotThrottled     prometheus.Counter
}

// Reasons a message is dropped, the values of the dropped counter's label.
const (
	dropQueueFull   = "queue_full"  // the peer's queue was full
	dropUnreachable = "unreachable" // queued while the peer could not be reached
	dropStream      = "stream"      // in a batch whose stream broke
	dropClosed      = "closed"      // the transport was closed
	dropEncode      = "encode"      // the message could not be marshalled
)

func newMetrics() *metrics {
	return &metrics{
		messagesSent:     counter("partita_transport_messages_sent_total", "Raft messages written to a peer stream."),
		messagesReceived: counter("partita_transport_messages_received_total", "Raft messages received from peers."),
		messagesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_transport_messages_dropped_total",
			Help: "Raft messages dropped before reaching a peer, by reason (queue_full, unreachable, stream, closed, encode).",
		}, []string{"reason"}),
		bytesSent:     counter("partita_transport_bytes_sent_total", "Bytes of marshalled raft messages written to peer streams."),
		bytesReceived: counter("partita_transport_bytes_received_total", "Bytes of marshalled raft messages received from peers."),
		batchesSent:   counter("partita_transport_batches_sent_total", "Batches of raft messages written to peer streams."),
		connects:      counter("partita_transport_connects_total", "Raft message streams opened to peers."),
		unreachable:   counter("partita_transport_unreachable_total", "Failed connections and broken streams to peers."),
		snapshotsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_transport_snapshots_sent_total",
			Help: "Snapshots sent, by outcome (ok, error).",
		}, []string{"outcome"}),
		snapshotsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_transport_snapshots_received_total",
			Help: "Snapshots received, by outcome (ok, error).",
		}, []string{"outcome"}),
		snapshotBytesSent:     counter("partita_transport_snapshot_bytes_sent_total", "Key and value bytes of snapshots sent."),
		snapshotBytesReceived: counter("partita_transport_snapshot_bytes_received_total", "Key and value bytes of snapshots received."),
		snapshotChunksSent:    counter("partita_transport_snapshot_chunks_sent_total", "Snapshot chunks sent, headers included."),
		snapshotThrottled: counter("partita_transport_snapshot_throttled_seconds_total",
			"Time snapshot senders waited for the snapshot rate limit."),
	}
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// register registers every collector on r; a nil r registers none.
func (m *metrics) register(r prometheus.Registerer) error {
	if r == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		m.messagesSent, m.messagesReceived, m.messagesDropped, m.bytesSent, m.bytesReceived,
		m.batchesSent, m.connects, m.unreachable, m.snapshotsSent, m.snapshotsReceived,
		m.snapshotBytesSent, m.snapshotBytesReceived, m.snapshotChunksSent, m.snapshotThrottled,
	} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// dropped counts n messages dropped for reason.
func (m *metrics) dropped(reason string, n int) {
	if n > 0 {
		m.messagesDropped.WithLabelValues(reason).Add(float64(n))
	}
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
