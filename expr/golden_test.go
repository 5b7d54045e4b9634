package expr

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/*.txt")

// TestGolden runs the scripts in testdata. Each case is a command line
// ("<command> <expression>"), a "----" line and the expected output: the
// parsed expression printed back, or the error message. Comment lines
// start with "# " before the command. Commands: condition, filter, update,
// projection, keycondition. Run with -rewrite to regenerate the output.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runGolden(t, f) })
	}
}

// goldenCase is one case of a script.
type goldenCase struct {
	comments []string
	command  string
	input    string
	want     string
	line     int
}

func runGolden(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := parseGolden(t, string(data))
	for i := range cases {
		c := &cases[i]
		got := runCommand(t, c.command, c.input)
		if *rewrite {
			c.want = got
		} else if got != c.want {
			t.Errorf("%s:%d: %s %s\n got: %s\nwant: %s", file, c.line, c.command, c.input, got, c.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(formatGolden(cases)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func parseGolden(t *testing.T, data string) []goldenCase {
	var cases []goldenCase
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		var c goldenCase
		for ; i < len(lines) && strings.HasPrefix(lines[i], "# "); i++ {
			c.comments = append(c.comments, lines[i])
		}
		if i+2 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("line %d: want a command, ---- and the expected output", i+1)
		}
		c.command, c.input, _ = strings.Cut(lines[i], " ")
		c.line, c.want = i+1, lines[i+2]
		cases = append(cases, c)
		i += 2
	}
	return cases
}

func formatGolden(cases []goldenCase) string {
	var b strings.Builder
	for i, c := range cases {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, l := range c.comments {
			b.WriteString(l + "\n")
		}
		b.WriteString(c.command + " " + c.input + "\n----\n" + c.want + "\n")
	}
	return b.String()
}

// runCommand parses input with the parser the command names, through the
// shared test Env.
func runCommand(t *testing.T, command, input string) string {
	var s interface{ String() string }
	var err error
	switch command {
	case "condition":
		s, err = ParseCondition(KindCondition, input, testEnv())
	case "filter":
		s, err = ParseCondition(KindFilter, input, testEnv())
	case "update":
		s, err = ParseUpdate(input, testEnv())
	case "projection":
		s, err = ParseProjection(input, testEnv())
	case "keycondition":
		s, err = ParseKeyCondition(input, testEnv())
	default:
		t.Fatalf("unknown command %q", command)
	}
	if err != nil {
		return err.Error()
	}
	return s.String()
}
