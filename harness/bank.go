package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// The bank: transactions under faults. Accounts {pk: "a<i>", bal: N,
// hist: L} of one table spread over the table's partitions; clients, each
// with its own coordinator (router), transfer money between accounts with
// write transactions, and read accounts with read transactions, while the
// nemesis breaks the cluster and clients' coordinators die or stall
// mid-transaction. Each transfer appends its id to the history (hist) of
// both of its accounts, so the final state says exactly which transfers
// applied, and in which order on each account: BankRun.Check verifies
// that every transfer applied atomically, at most once, that acknowledged
// ones applied and cancelled ones did not, that balances are the sum of
// the transfers that applied, and that the transfers and the reads are
// conflict-serializable.

// Bank configures a bank workload.
type Bank struct {
	// Table is the table's name. Default "bank".
	Table string
	// Accounts is the number of accounts. Default 8.
	Accounts int
	// Initial is every account's opening balance. Default 100.
	Initial int
	// Clients is the number of concurrent clients, each with its own
	// coordinator. Default 4.
	Clients int
	// Reads is the fraction of read transactions (of every account half
	// the time, else of a random subset). Default 0.3.
	Reads float64
	// Kills is the fraction of transactions whose coordinator dies at a
	// random KillPoint; the client then starts a new one. Default 0.1;
	// negative: none.
	Kills float64
	// Jumps is the mean time between jumps of the routers' clock past
	// router.TxnDeadline (0: none): every transaction in flight then is
	// expired, so whoever meets its intents recovers it, racing its
	// coordinator.
	Jumps time.Duration
	// Stalls is the fraction of transactions whose coordinator stalls
	// for 20 ticks before one of its prepares, the routers' clock jumping
	// past the transaction's deadline meanwhile (Coordinator.Stall).
	Stalls float64
	// Skew bounds the error of each coordinator's clock: each new one
	// reads the routers' clock plus an offset drawn in [-Skew, Skew].
	Skew time.Duration
	// OpTimeout bounds one transaction; one still unanswered then has an
	// unknown outcome. Default 300 ticks.
	OpTimeout time.Duration
	// Seed drives the clients' choices.
	Seed uint64
}

func (b *Bank) fill(tick time.Duration) {
	if b.Table == "" {
		b.Table = "bank"
	}
	if b.Accounts == 0 {
		b.Accounts = 8
	}
	if b.Initial == 0 {
		b.Initial = 100
	}
	if b.Clients == 0 {
		b.Clients = 4
	}
	if b.Reads == 0 {
		b.Reads = 0.3
	}
	if b.Kills == 0 {
		b.Kills = 0.1
	}
	if b.OpTimeout == 0 {
		b.OpTimeout = 300 * tick
	}
}

// Outcome is what a client learned of a transfer.
type Outcome int

// The outcomes of a transfer.
const (
	// Committed: acknowledged; it must have applied.
	Committed Outcome = iota
	// Cancelled: refused (a condition failed, a conflict); it must not
	// have applied.
	Cancelled
	// Unknown: no answer (a timeout, a dead coordinator); it may have
	// applied, or not, but atomically.
	Unknown
)

// Transfer is one transfer of a bank run.
type Transfer struct {
	ID       string
	From, To int
	Amount   int
	Outcome  Outcome
	// Killed is where its coordinator died (KillNone: it did not).
	Killed KillPoint
}

// BankRead is a read transaction that succeeded: the accounts it read
// and what it saw of each.
type BankRead struct {
	Accounts []int
	Bal      []int
	Logs     [][]string
}

// BankRun is a bank workload's table and history.
type BankRun struct {
	c     *Cluster
	b     Bank
	clock *TxnClock
	table *partitapb.Table

	mu        sync.Mutex
	transfers []Transfer
	reads     []BankRead
	// failedReads counts read transactions that got no snapshot.
	failedReads int
	kills       map[KillPoint]int
}

// NewBank creates b's table (its partitions on every node) and opens its
// accounts, through a coordinator with clock k. The meta partition must
// exist (BootstrapMeta) and every node be up.
func (c *Cluster) NewBank(ctx context.Context, b Bank, k *TxnClock) (*BankRun, error) {
	b.fill(c.cfg.TickInterval)
	co := c.NewCoordinator(k)
	schema := &partitapb.Table{
		Name:      b.Table,
		KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}},
	}
	if _, err := co.CreateTable(ctx, schema); err != nil {
		return nil, fmt.Errorf("harness: create the bank's table: %w", err)
	}
	t, err := co.Table(ctx, b.Table)
	if err != nil {
		return nil, fmt.Errorf("harness: read the bank's table: %w", err)
	}
	for i := range b.Accounts {
		it := item.Item{"pk": item.S(account(i)), "bal": number(b.Initial), "hist": item.L([]item.Value{})}
		sk, err := co.StorageKey(t, item.Item{"pk": it["pk"]})
		if err != nil {
			return nil, err
		}
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(it)}}}
		res, err := co.Write(ctx, t, it, cmd)
		if err == nil && res.GetError() != nil {
			err = res.GetError()
		}
		if err != nil {
			return nil, fmt.Errorf("harness: open account %d: %w", i, err)
		}
	}
	return &BankRun{c: c, b: b, clock: k, table: t, kills: map[KillPoint]int{}}, nil
}

// Table is the bank's table record.
func (br *BankRun) Table() *partitapb.Table { return br.table }

func account(i int) string { return fmt.Sprint("a", i) }

func number(v int) item.Value { return item.N(item.MustNumber(strconv.Itoa(v))) }

// Run runs the clients until ctx ends (transactions in flight then
// finish, bounded by OpTimeout). It returns the first unexpected error.
func (br *BankRun) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if br.b.Jumps > 0 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(br.b.Seed, 0x6a756d70))
			for sleep(ctx, jitter(rng, br.b.Jumps/2)) {
				br.clock.Advance(router.TxnDeadline + time.Second)
			}
		})
	}
	errs := make([]error, br.b.Clients)
	for i := range br.b.Clients {
		wg.Go(func() {
			bc := &bankClient{br: br, name: fmt.Sprint("c", i), rng: rand.New(rand.NewPCG(br.b.Seed, uint64(i)))}
			errs[i] = bc.run(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stats counts the transfers by outcome, the reads that got a snapshot
// and those that did not, and the coordinators killed at each point.
func (br *BankRun) Stats() (byOutcome [3]int, reads, failedReads int, kills map[KillPoint]int) {
	br.mu.Lock()
	defer br.mu.Unlock()
	for _, t := range br.transfers {
		byOutcome[t.Outcome]++
	}
	return byOutcome, len(br.reads), br.failedReads, maps.Clone(br.kills)
}

// bankClient is one client of a bank run.
type bankClient struct {
	br   *BankRun
	name string
	rng  *rand.Rand
	co   *Coordinator
	seq  int
}

func (bc *bankClient) run(ctx context.Context) error {
	for ctx.Err() == nil {
		if bc.co == nil || bc.co.Killed() != KillNone {
			var skew time.Duration
			if s := bc.br.b.Skew; s > 0 {
				skew = time.Duration(bc.rng.Int64N(2*int64(s)+1)) - s
			}
			bc.co = bc.br.c.NewSkewedCoordinator(bc.br.clock, skew)
		}
		kill := KillNone
		if bc.rng.Float64() < bc.br.b.Kills {
			kill = KillPoint(1 + bc.rng.IntN(int(KillAfterFirstResolve)))
		}
		bc.co.Arm(kill)
		if bc.rng.Float64() < bc.br.b.Stalls {
			bc.co.Stall(20 * bc.br.c.cfg.TickInterval)
		}
		var err error
		if bc.rng.Float64() < bc.br.b.Reads {
			err = bc.read()
		} else {
			err = bc.transfer()
		}
		bc.co.Arm(KillNone)
		bc.co.Stall(0)
		if k := bc.co.Killed(); k != KillNone {
			bc.br.mu.Lock()
			bc.br.kills[k]++
			bc.br.mu.Unlock()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", bc.name, err)
		}
	}
	return nil
}

// actionOn returns a transaction action of account i.
func (bc *bankClient) actionOn(i int, p *partitapb.TxnPrepare) (router.TxnAction, error) {
	sk, err := bc.co.StorageKey(bc.br.table, item.Item{"pk": item.S(account(i))})
	if err != nil {
		return router.TxnAction{}, err
	}
	p.Key = sk
	switch a := p.GetAction().(type) {
	case *partitapb.TxnPrepare_Update:
		a.Update.Key, a.Update.KeyItem = sk, item.EncodeItem(item.Item{"pk": item.S(account(i))})
	}
	return router.TxnAction{Table: bc.br.table, Prepare: p}, nil
}

// transfer moves a random amount between two random accounts, checking
// sometimes that a third one exists, and records the outcome.
func (bc *bankClient) transfer() error {
	n := bc.br.b.Accounts
	from := bc.rng.IntN(n)
	to := (from + 1 + bc.rng.IntN(n-1)) % n
	amount := 1 + bc.rng.IntN(bc.br.b.Initial/4)
	bc.seq++
	id := fmt.Sprintf("%s.%d", bc.name, bc.seq)
	values := func(a int) []byte {
		return item.EncodeItem(item.Item{":a": number(a), ":t": item.L([]item.Value{item.S(id)})})
	}
	update := func(sign string, cond *partitapb.Expression) *partitapb.TxnPrepare {
		return &partitapb.TxnPrepare{Action: &partitapb.TxnPrepare_Update{Update: &partitapb.UpdateItem{
			Update:    &partitapb.Expression{Text: "SET bal = bal " + sign + " :a, hist = list_append(hist, :t)", Values: values(amount)},
			Condition: cond,
		}}}
	}
	funded := &partitapb.Expression{Text: "bal >= :a", Values: item.EncodeItem(item.Item{":a": number(amount)})}
	exists := &partitapb.Expression{Text: "attribute_exists(bal)"}
	var actions []router.TxnAction
	for _, step := range []struct {
		i int
		p *partitapb.TxnPrepare
	}{{from, update("-", funded)}, {to, update("+", exists)}} {
		a, err := bc.actionOn(step.i, step.p)
		if err != nil {
			return err
		}
		actions = append(actions, a)
	}
	if n > 2 && bc.rng.IntN(3) == 0 {
		third := bc.rng.IntN(n)
		for third == from || third == to {
			third = bc.rng.IntN(n)
		}
		a, err := bc.actionOn(third, &partitapb.TxnPrepare{Action: &partitapb.TxnPrepare_Check{
			Check: &partitapb.Expression{Text: "bal >= :z", Values: item.EncodeItem(item.Item{":z": number(0)})}}})
		if err != nil {
			return err
		}
		actions = append(actions, a)
	}
	bc.rng.Shuffle(len(actions), func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })
	ctx, cancel := bc.co.Begin(context.Background())
	defer cancel()
	ctx, cancelOp := context.WithTimeout(ctx, bc.br.b.OpTimeout)
	defer cancelOp()
	out, err := bc.co.TransactWrite(ctx, actions)
	t := Transfer{ID: id, From: from, To: to, Amount: amount, Outcome: Unknown, Killed: bc.co.Killed()}
	switch {
	case t.Killed != KillNone || err != nil:
	case out.Committed:
		t.Outcome = Committed
	default:
		t.Outcome = Cancelled
		for _, res := range out.Results {
			if e := res.GetError(); e.GetCode() == partitapb.Error_VALIDATION {
				return fmt.Errorf("transfer %s refused: %s", id, e.GetMessage())
			}
		}
	}
	bc.br.mu.Lock()
	bc.br.transfers = append(bc.br.transfers, t)
	bc.br.mu.Unlock()
	return nil
}

// read reads every account, or a random subset of at least two, in one
// read transaction, and records what it saw if it succeeded.
func (bc *bankClient) read() error {
	n := bc.br.b.Accounts
	accounts := make([]int, n)
	for i := range accounts {
		accounts[i] = i
	}
	if bc.rng.IntN(2) == 0 {
		bc.rng.Shuffle(n, func(i, j int) { accounts[i], accounts[j] = accounts[j], accounts[i] })
		accounts = accounts[:2+bc.rng.IntN(n-1)]
	}
	var actions []router.TxnAction
	for _, i := range accounts {
		a, err := bc.actionOn(i, &partitapb.TxnPrepare{Action: &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{}}})
		if err != nil {
			return err
		}
		actions = append(actions, a)
	}
	ctx, cancel := bc.co.Begin(context.Background())
	defer cancel()
	ctx, cancelOp := context.WithTimeout(ctx, bc.br.b.OpTimeout)
	defer cancelOp()
	out, err := bc.co.TransactGet(ctx, actions)
	if err != nil || !out.Prepared() || bc.co.Killed() != KillNone {
		bc.br.mu.Lock()
		bc.br.failedReads++
		bc.br.mu.Unlock()
		return nil
	}
	r := BankRead{Accounts: accounts}
	for i, res := range out.Results {
		if !res.GetHasOld() {
			return fmt.Errorf("read transaction: account %d is missing", accounts[i])
		}
		it, err := item.DecodeItem(res.GetOldItem())
		if err != nil {
			return fmt.Errorf("read transaction: account %d: %w", accounts[i], err)
		}
		bal, log, err := decodeAccount(it)
		if err != nil {
			return fmt.Errorf("read transaction: account %d: %w", accounts[i], err)
		}
		r.Bal, r.Logs = append(r.Bal, bal), append(r.Logs, log)
	}
	bc.br.mu.Lock()
	bc.br.reads = append(bc.br.reads, r)
	bc.br.mu.Unlock()
	return nil
}

// decodeAccount returns an account item's balance and log.
func decodeAccount(it item.Item) (int, []string, error) {
	b, ok := it["bal"].N.Int64()
	if it["bal"].Type != item.TypeN || !ok {
		return 0, nil, fmt.Errorf("balance %v is not an integer", it["bal"])
	}
	var log []string
	for _, v := range it["hist"].L {
		log = append(log, v.S)
	}
	return int(b), log, nil
}

// Final reads every account with a fresh coordinator (consistent reads,
// which recover the transactions whose intents they meet once their
// deadline has passed) and returns their balances and logs.
func (br *BankRun) Final(ctx context.Context) (bal []int, logs [][]string, err error) {
	co := br.c.NewCoordinator(br.clock)
	for i := range br.b.Accounts {
		it, err := co.Get(ctx, br.table, item.Item{"pk": item.S(account(i))}, true)
		if err != nil {
			return nil, nil, fmt.Errorf("harness: read account %d: %w", i, err)
		}
		if it == nil {
			return nil, nil, fmt.Errorf("harness: account %d is missing", i)
		}
		b, l, err := decodeAccount(it)
		if err != nil {
			return nil, nil, fmt.Errorf("harness: account %d: %w", i, err)
		}
		bal, logs = append(bal, b), append(logs, l)
	}
	return bal, logs, nil
}

// Check verifies the history against the final state (Final's balances
// and logs) and returns every violation found:
//
//   - the total is constant and no balance is negative, at the end and
//     in every read of all accounts;
//   - a transfer appears at most once in a log, only in the logs of its
//     two accounts, and in both or neither (atomicity); an acknowledged
//     one in both, a cancelled one in neither;
//   - each balance is the opening balance plus the transfers in its log;
//   - every read saw a prefix of each account's final log;
//   - the transfers (ordered on each account by its log) and the reads
//     (after what they saw, before what they did not) form an acyclic
//     graph: the history is conflict-serializable.
func (br *BankRun) Check(bal []int, logs [][]string) []string {
	br.mu.Lock()
	defer br.mu.Unlock()
	var bad []string
	fail := func(format string, args ...any) {
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	want := br.b.Accounts * br.b.Initial
	total := 0
	for i, b := range bal {
		total += b
		if b < 0 {
			fail("account %d ended at %d", i, b)
		}
	}
	if total != want {
		fail("the accounts ended with a total of %d, want %d", total, want)
	}
	byID := map[string]Transfer{}
	for _, t := range br.transfers {
		byID[t.ID] = t
	}
	// where[id] lists the accounts whose log holds id (once each).
	where := map[string][]int{}
	for i, log := range logs {
		net := br.b.Initial
		for _, id := range log {
			t, ok := byID[id]
			switch {
			case !ok:
				fail("account %d's log holds %q, which no client sent", i, id)
				continue
			case slices.Contains(where[id], i):
				fail("transfer %s applied twice to account %d", id, i)
			case i != t.From && i != t.To:
				fail("transfer %s (a%d -> a%d) applied to account %d", id, t.From, t.To, i)
			}
			where[id] = append(where[id], i)
			if i == t.From {
				net -= t.Amount
			} else if i == t.To {
				net += t.Amount
			}
		}
		if net != bal[i] {
			fail("account %d holds %d, but its log's transfers make %d", i, bal[i], net)
		}
	}
	for _, t := range br.transfers {
		n := len(where[t.ID])
		switch {
		case n == 1:
			fail("transfer %s (a%d -> a%d, %v, coordinator killed %v) applied to account %d only",
				t.ID, t.From, t.To, outcomeName(t.Outcome), t.Killed, where[t.ID][0])
		case t.Outcome == Committed && n == 0:
			fail("transfer %s (a%d -> a%d) was acknowledged but did not apply", t.ID, t.From, t.To)
		case t.Outcome == Cancelled && n > 0:
			fail("transfer %s (a%d -> a%d) was cancelled but applied", t.ID, t.From, t.To)
		}
	}
	for ri, r := range br.reads {
		sum := 0
		for j, a := range r.Accounts {
			sum += r.Bal[j]
			if !isPrefix(r.Logs[j], logs[a]) {
				fail("read %d saw account %d's log %v, not a prefix of its final log %v", ri, a, r.Logs[j], logs[a])
			}
		}
		if len(r.Accounts) == br.b.Accounts && sum != want {
			fail("read %d of every account saw a total of %d, want %d", ri, sum, want)
		}
	}
	if cycle := br.cycle(logs); cycle != "" {
		fail("the history is not serializable: %s", cycle)
	}
	return bad
}

func outcomeName(o Outcome) string {
	return [...]string{"committed", "cancelled", "unknown"}[o]
}

func isPrefix(p, of []string) bool {
	return len(p) <= len(of) && slices.Equal(p, of[:len(p)])
}

// cycle returns a description of a cycle in the serialization graph, ""
// when it has none. Its nodes are the transfers that applied and the
// reads; on each account, a transfer precedes the next in its log, a
// read follows the transfers it saw and precedes those it did not.
func (br *BankRun) cycle(logs [][]string) string {
	edges := map[string][]string{}
	nodes := map[string]bool{}
	edge := func(a, b string) { edges[a] = append(edges[a], b); nodes[a], nodes[b] = true, true }
	for _, log := range logs {
		for j := 1; j < len(log); j++ {
			edge(log[j-1], log[j])
		}
		for _, id := range log {
			nodes[id] = true
		}
	}
	for ri, r := range br.reads {
		name := fmt.Sprint("read", ri)
		nodes[name] = true
		for j, a := range r.Accounts {
			seen := len(r.Logs[j])
			if seen > len(logs[a]) {
				continue // reported as not a prefix
			}
			if seen > 0 {
				edge(logs[a][seen-1], name)
			}
			if seen < len(logs[a]) {
				edge(name, logs[a][seen])
			}
		}
	}
	// Depth-first search for a back edge.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch color[m] {
			case grey:
				i := slices.Index(stack, m)
				found = append(slices.Clone(stack[i:]), m)
				return true
			case white:
				if visit(m) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if color[n] == white && visit(n) {
			return strings.Join(found, " -> ")
		}
	}
	return ""
}
