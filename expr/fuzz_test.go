package expr

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/partitadb/partita/item"
)

// Fuzz targets: parsing never panics, a rejected expression gets an *Error
// naming its parameter, and an accepted one prints to an expression that
// parses to the same text and behaves the same on sample items.

// addSeeds adds the inputs of one command from the testdata scripts.
func addSeeds(f *testing.F, command string) {
	for _, file := range []string{"testdata/condition.txt", "testdata/update.txt", "testdata/projection.txt"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if cmd, input, ok := strings.Cut(line, " "); ok && cmd == command {
				f.Add(input)
			}
		}
	}
}

// sampleItems are the items the fuzz targets evaluate against.
func sampleItems() []item.Item { return []item.Item{nil, {}, testItem(), base()} }

// checkRejected verifies the form of a parse error.
func checkRejected(t *testing.T, kind string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if !strings.HasPrefix(e.Msg, "Invalid "+kind+": ") {
		t.Fatalf("message %q lacks the prefix for %s", e.Msg, kind)
	}
}

func FuzzParseCondition(f *testing.F) {
	addSeeds(f, "condition")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(KindCondition, s, testEnv())
		if err != nil {
			checkRejected(t, KindCondition, err)
			return
		}
		printed := c.String()
		if len(printed) > MaxExpressionSize {
			return
		}
		c2, err := ParseCondition(KindCondition, printed, testEnv())
		if err != nil || c2.String() != printed {
			t.Fatalf("%q printed as %q, which parses to %v, %v", s, printed, c2, err)
		}
		for _, it := range sampleItems() {
			a, err1 := c.Eval(it)
			b, err2 := c2.Eval(it)
			if a != b || err1 != nil || err2 != nil {
				t.Fatalf("%q and %q differ on %s: %v/%v, %v/%v", s, printed, dump(it), a, err1, b, err2)
			}
		}
	})
}

func FuzzParseUpdate(f *testing.F) {
	addSeeds(f, "update")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpdate(s, testEnv())
		if err != nil {
			checkRejected(t, KindUpdate, err)
			return
		}
		printed := u.String()
		if len(printed) > MaxExpressionSize {
			return
		}
		u2, err := ParseUpdate(printed, testEnv())
		if err != nil || u2.String() != printed {
			t.Fatalf("%q printed as %q, which parses to %v, %v", s, printed, u2, err)
		}
		for _, it := range sampleItems() {
			orig := item.Item(nil)
			if it != nil {
				orig = item.Item{}
				for k, v := range it {
					orig[k] = v
				}
			}
			a, err1 := u.Apply(it)
			b, err2 := u2.Apply(it)
			if errString(err1) != errString(err2) || !item.EqualItems(a, b) {
				t.Fatalf("%q and %q differ on %s: %s/%v, %s/%v", s, printed, dump(it), dump(a), err1, dump(b), err2)
			}
			if !item.EqualItems(it, orig) {
				t.Fatalf("%q modified its input", s)
			}
			u.Updated().Apply(a)
		}
	})
}

func FuzzParseProjection(f *testing.F) {
	addSeeds(f, "projection")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProjection(s, testEnv())
		if err != nil {
			checkRejected(t, KindProjection, err)
			return
		}
		printed := p.String()
		if len(printed) > MaxExpressionSize {
			return
		}
		p2, err := ParseProjection(printed, testEnv())
		if err != nil || p2.String() != printed {
			t.Fatalf("%q printed as %q, which parses to %v, %v", s, printed, p2, err)
		}
		for _, it := range sampleItems() {
			if a, b := p.Apply(it), p2.Apply(it); !item.EqualItems(a, b) {
				t.Fatalf("%q and %q differ on %s", s, printed, dump(it))
			}
		}
	})
}
