package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// RuleFileOptions configure RuleFiles.
type RuleFileOptions struct {
	Options Options
	// The four rule-file options, each a value or a ruleset choosing the
	// files per message ([content] filename_rules ...).
	Filename, Filetype, ArchiveFilename, ArchiveFiletype ruleset.Setting
	// Paths returns the rule files a value names; none: the shipped file.
	Paths func(value string) []string
	// Shipped holds the shipped rule files (filename.rules.conf,
	// filetype.rules.conf, archives.filename.rules.conf,
	// archives.filetype.rules.conf).
	Shipped fs.FS
}

// RuleFiles is the content stage: a Checker per set of rule files, the
// set chosen per message.
type RuleFiles struct {
	o        RuleFileOptions
	mu       sync.Mutex
	loaded   map[string]*Rules   // by shipped name and option value
	checkers map[string]*Checker // by the four values
}

// NewRuleFiles loads every rule file the options can name (each value of
// their rulesets too); their errors come back all at once as FILE:LINE:
// text.
func NewRuleFiles(o RuleFileOptions) (*RuleFiles, error) {
	r := &RuleFiles{o: o, loaded: map[string]*Rules{}, checkers: map[string]*Checker{}}
	var errs []error
	for _, opt := range r.options() {
		for _, v := range opt.s.Values() {
			if _, err := r.load(v, opt.shipped); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("content rules:\n%w", err)
	}
	if _, err := r.checker(&message.Message{}); err != nil {
		return nil, fmt.Errorf("content rules:\n%w", err)
	}
	return r, nil
}

type ruleOption struct {
	s       ruleset.Setting
	shipped string
}

func (r *RuleFiles) options() []ruleOption {
	return []ruleOption{{r.o.Filename, "filename.rules.conf"}, {r.o.Filetype, "filetype.rules.conf"},
		{r.o.ArchiveFilename, "archives.filename.rules.conf"}, {r.o.ArchiveFiletype, "archives.filetype.rules.conf"}}
}

// load parses the rule files a value names (the shipped ones for "").
func (r *RuleFiles) load(v, shipped string) (*Rules, error) {
	key := shipped + "\x00" + v
	if rs, ok := r.loaded[key]; ok {
		return rs, nil
	}
	var rs *Rules
	var err error
	if paths := r.o.Paths(v); len(paths) > 0 {
		rs, err = LoadRules(paths...)
	} else {
		rs, err = r.shippedRules(shipped)
	}
	if err == nil {
		r.loaded[key] = rs
	}
	return rs, err
}

// shippedRules parses a rule file built into the binary.
func (r *RuleFiles) shippedRules(name string) (*Rules, error) {
	f, err := r.o.Shipped.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseRules("(built-in) "+name, f)
}

// checker returns the checker for a message's rule files.
func (r *RuleFiles) checker(m *message.Message) (*Checker, error) {
	rm := ruleset.MsgOf(m)
	var vals [4]string
	for i, o := range r.options() {
		vals[i] = o.s.Resolve(rm)
	}
	key := strings.Join(vals[:], "\x00")
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.checkers[key]; ok {
		return c, nil
	}
	var sets [4]*Rules
	for i, o := range r.options() {
		rs, err := r.load(vals[i], o.shipped)
		if err != nil {
			return nil, err
		}
		sets[i] = rs
	}
	c, err := NewWithRules(r.o.Options, RuleSets{Filename: sets[0], Filetype: sets[1], ArchiveFilename: sets[2], ArchiveFiletype: sets[3]})
	if err != nil {
		return nil, err
	}
	r.checkers[key] = c
	return c, nil
}

// Name is the stage's name in logs and metrics.
func (r *RuleFiles) Name() string { return "content" }

// Check runs the content checks with the message's rule files.
func (r *RuleFiles) Check(_ context.Context, m *message.Message) error {
	c, err := r.checker(m)
	if err != nil {
		return err
	}
	m.Reports = append(m.Reports, c.Check(m)...)
	return nil
}
