package settings

import (
	"errors"
	"fmt"
)

// The errors of a bad setting or value; each wraps the details.
var (
	ErrUnknown  = errors.New("settings: unknown setting")
	ErrBadValue = errors.New("settings: bad value")
	ErrBounds   = errors.New("settings: value out of bounds")
	ErrNotLive  = errors.New("settings: cannot change while the node runs")
	ErrBadScope = errors.New("settings: bad scope")
)

// Setting describes one knob.
type Setting struct {
	// Name is the dotted name operators use: raft.election-timeout.
	Name string
	Kind Kind
	// Default is the value when nothing sets it, as text of its kind.
	Default string
	// Min and Max bound numeric values (inclusive), as text; empty: none.
	Min, Max string
	// Choices are an Enum's values.
	Choices []string
	// Unit says what a number counts (entries, writes/s); durations and
	// sizes carry their own.
	Unit string
	// Doc says what the setting does, in a sentence or two.
	Doc string
	// Readers name the parts of a node that read it.
	Readers string
	// Live settings change while the node runs; the others are read at
	// start and an override of them is refused.
	Live bool
	// PerTable settings may also be overridden for one table.
	PerTable bool
	// TestOnly settings exist for fault injection in tests.
	TestOnly bool

	def, lo, hi Value
}

// compile parses the setting's default and bounds, and checks them.
func (s *Setting) compile() error {
	if s.Name == "" || s.Doc == "" || s.Readers == "" {
		return fmt.Errorf("setting %q: a name, a doc and its readers are required", s.Name)
	}
	if (s.Kind == Enum) != (len(s.Choices) > 0) {
		return fmt.Errorf("setting %s: choices go with the enum kind, and only with it", s.Name)
	}
	var err error
	if s.def, err = parse(s.Kind, s.Default, s.Choices); err != nil {
		return fmt.Errorf("setting %s: default: %w", s.Name, err)
	}
	for _, b := range []struct {
		text string
		v    *Value
	}{{s.Min, &s.lo}, {s.Max, &s.hi}} {
		if b.text == "" {
			continue
		}
		if s.Kind == Bool || s.Kind == Enum {
			return fmt.Errorf("setting %s: a %v has no bounds", s.Name, s.Kind)
		}
		if *b.v, err = parse(s.Kind, b.text, nil); err != nil {
			return fmt.Errorf("setting %s: bound: %w", s.Name, err)
		}
	}
	if s.Min != "" && s.Max != "" && s.lo.num > s.hi.num {
		return fmt.Errorf("setting %s: min %s above max %s", s.Name, s.Min, s.Max)
	}
	if err := s.inBounds(s.def); err != nil {
		return fmt.Errorf("setting %s: default: %w", s.Name, err)
	}
	return nil
}

// DefaultValue is the setting's default.
func (s *Setting) DefaultValue() Value { return s.def }

// Parse reads text as a value of this setting, within its bounds.
func (s *Setting) Parse(text string) (Value, error) {
	v, err := parse(s.Kind, text, s.Choices)
	if err != nil {
		return Value{}, fmt.Errorf("%w: %s: %w", ErrBadValue, s.Name, err)
	}
	if err := s.inBounds(v); err != nil {
		return Value{}, fmt.Errorf("%w: %s: %w", ErrBounds, s.Name, err)
	}
	return v, nil
}

func (s *Setting) inBounds(v Value) error {
	if s.Min != "" && v.num < s.lo.num {
		return fmt.Errorf("%s is below the minimum %s", v, s.lo)
	}
	if s.Max != "" && v.num > s.hi.num {
		return fmt.Errorf("%s is above the maximum %s", v, s.hi)
	}
	return nil
}
