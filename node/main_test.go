package node_test

import (
	"flag"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// testParallel is how many of the package's tests run at once unless
// -parallel says otherwise. They spend most of their time waiting on
// timers (elections, leases, the Doctor's intervals, topology rounds),
// not on a CPU: one at a time, the package took 11 minutes on two cores.
const testParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", strconv.Itoa(testParallel)); err != nil {
			panic(err)
		}
	}
	goleak.VerifyTestMain(m)
}
