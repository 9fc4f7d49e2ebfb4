package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "VIGIL_"

// maxFileSize caps a configuration file; anything larger is a mistake.
const maxFileSize = 1 << 20

// Key describes one leaf configuration key under its three names.
type Key struct {
	Path    string // YAML path: database.url
	Env     string // environment variable: VIGIL_DATABASE_URL
	Flag    string // flag name without dashes: database-url
	Help    string
	Default string // the default rendered as text, "" when unset
	index   []int
	typ     reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// Keys lists the leaf keys of a configuration struct, in declaration order,
// with defaults taken from cfg.
func Keys(cfg any) []Key {
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var keys []Key
	collectKeys(v, nil, nil, &keys)
	return keys
}

func collectKeys(v reflect.Value, path []string, index []int, keys *[]Key) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		p := append(append([]string(nil), path...), name)
		idx := append(append([]int(nil), index...), i)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			collectKeys(fv, p, idx, keys)
			continue
		}
		if isList(f.Type) {
			continue // a list of sections is set from the file only
		}
		*keys = append(*keys, Key{
			Path:    strings.Join(p, "."),
			Env:     EnvPrefix + strings.ToUpper(strings.Join(p, "_")),
			Flag:    strings.ReplaceAll(strings.Join(p, "-"), "_", "-"),
			Help:    f.Tag.Get("help"),
			Default: render(fv),
			index:   idx,
			typ:     f.Type,
		})
	}
}

// isList reports whether a field is a list of sections (subnets:).
func isList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

// Defaulter is a section of a list that fills in its own defaults before
// the file's values are laid over it.
type Defaulter interface{ SetDefaults() }

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func render(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	return fmt.Sprint(v.Interface())
}

// set parses raw into the field a key names; the error says what was expected.
func (k Key) set(cfg reflect.Value, raw string) error {
	f := cfg.FieldByIndex(k.index)
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if err := setScalar(p.Elem(), raw); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	return setScalar(f, raw)
}

func setScalar(f reflect.Value, raw string) error {
	raw = strings.TrimSpace(raw)
	if f.Type() == durationType {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("expected a duration such as 30s or 5m")
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("expected true or false")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("expected an integer of %d bits", f.Type().Bits())
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("expected an integer from 0 to %d", uint64(1)<<f.Type().Bits()-1)
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(raw, f.Type().Bits())
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("expected a finite number")
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

// Source says where the layers above the defaults come from.
type Source struct {
	// File is a YAML file; empty for none.
	File string
	// LookupEnv reads the environment; nil ignores it.
	LookupEnv func(string) (string, bool)
	// EnvName names the variable LookupEnv really read for a name (an SN16
	// twin, say), for error messages; nil means the name itself.
	EnvName func(string) string
	// Flags holds the values of the flags given on the command line, by flag name.
	Flags map[string]string
}

// Load applies the file, environment and flag layers of src onto cfg, a
// pointer to a configuration struct already holding its defaults. It does not
// validate: call the struct's Validate after.
func Load(cfg any, src Source) error {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config.Load: want a pointer to a struct, got %T", cfg)
	}
	v = v.Elem()
	keys := Keys(cfg)
	if src.File != "" {
		if err := loadFile(v, keys, src.File); err != nil {
			return err
		}
	}
	if src.LookupEnv != nil {
		for _, k := range keys {
			raw, ok := src.LookupEnv(k.Env)
			if !ok {
				continue
			}
			if err := k.set(v, raw); err != nil {
				from := k.Env
				if src.EnvName != nil {
					from = src.EnvName(k.Env)
				}
				return fmt.Errorf("%w: %s: invalid value %q from %s: %v", ErrInvalid, k.Path, raw, from, err)
			}
		}
	}
	for _, k := range keys {
		raw, ok := src.Flags[k.Flag]
		if !ok {
			continue
		}
		if err := k.set(v, raw); err != nil {
			return fmt.Errorf("%w: %s: invalid value %q from --%s: %v", ErrInvalid, k.Path, raw, k.Flag, err)
		}
	}
	return nil
}

func loadFile(v reflect.Value, keys []Key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("%w: config file %s is larger than %d bytes", ErrInvalid, path, maxFileSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: config file %s: %v", ErrInvalid, path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file keeps every default
	}
	byPath := make(map[string]Key, len(keys))
	for _, k := range keys {
		byPath[k.Path] = k
	}
	w := walker{v: v, keys: byPath, file: filepath.Base(path)}
	return w.walk(doc.Content[0], v.Type(), "")
}

type walker struct {
	v    reflect.Value
	keys map[string]Key
	file string
}

func (w walker) at(n *yaml.Node) string { return fmt.Sprintf("%s:%d", w.file, n.Line) }

func (w walker) walk(n *yaml.Node, t reflect.Type, prefix string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		where := prefix
		if where == "" {
			where = "top level"
		}
		return fmt.Errorf("%w: %s: expected a mapping of keys (%s)", ErrInvalid, where, w.at(n))
	}
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = t.Field(i)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := kn.Value
		if prefix != "" {
			path = prefix + "." + kn.Value
		}
		if line, dup := seen[kn.Value]; dup {
			return fmt.Errorf("%w: %s: key %q already defined at line %d (%s)", ErrInvalid, path, kn.Value, line, w.at(kn))
		}
		seen[kn.Value] = kn.Line
		f, ok := fields[kn.Value]
		if !ok {
			return fmt.Errorf("%w: %s: unknown key (%s)%s", ErrInvalid, path, w.at(kn), suggest(fields))
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			if err := w.walk(vn, f.Type, path); err != nil {
				return err
			}
			continue
		}
		if isList(f.Type) {
			if prefix != "" {
				return fmt.Errorf("%w: %s: a list inside a section is not supported (%s)", ErrInvalid, path, w.at(kn))
			}
			if err := w.list(vn, w.v.FieldByIndex(f.Index), path); err != nil {
				return err
			}
			continue
		}
		key := w.keys[path]
		switch {
		case vn.Kind == yaml.AliasNode:
			vn = vn.Alias
			fallthrough
		case vn.Kind == yaml.ScalarNode:
			if vn.Tag == "!!null" {
				continue // "key:" with no value keeps the default
			}
			if err := key.set(w.v, vn.Value); err != nil {
				return fmt.Errorf("%w: %s: invalid value %q (%s): %v", ErrInvalid, path, vn.Value, w.at(vn), err)
			}
		default:
			return fmt.Errorf("%w: %s: expected a single value, not a list or mapping (%s)", ErrInvalid, path, w.at(vn))
		}
	}
	return nil
}

// list sets a top-level list of sections from a sequence of mappings, each
// starting from its type's defaults; paths in errors read subnets[1].kaspa.
func (w walker) list(n *yaml.Node, dst reflect.Value, path string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%w: %s: expected a list (%s)", ErrInvalid, path, w.at(n))
	}
	out := reflect.MakeSlice(dst.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		ev := reflect.New(dst.Type().Elem())
		if d, ok := ev.Interface().(Defaulter); ok {
			d.SetDefaults()
		}
		prefix := fmt.Sprintf("%s[%d]", path, i)
		keys := map[string]Key{}
		for _, k := range Keys(ev.Interface()) {
			keys[prefix+"."+k.Path] = k
		}
		sub := walker{v: ev.Elem(), keys: keys, file: w.file}
		if err := sub.walk(item, ev.Elem().Type(), prefix); err != nil {
			return err
		}
		out = reflect.Append(out, ev.Elem())
	}
	dst.Set(out)
	return nil
}

// suggest names the known keys next to an unknown one, since the usual cause
// is a typo.
func suggest(fields map[string]reflect.StructField) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	return fmt.Sprintf("; known keys here: %s", strings.Join(known, ", "))
}

// FlagValues collects the configuration flags given on a command line.
type FlagValues map[string]string

// BindFlags registers one flag per configuration key on fs. The flags hold
// raw text until Load parses them, so a flag is parsed and validated exactly
// like the same key in a file or the environment.
func BindFlags(fs *flag.FlagSet, keys []Key) FlagValues {
	vals := FlagValues{}
	for _, k := range keys {
		usage := k.Help
		if k.Default != "" {
			usage += fmt.Sprintf(" (default %s)", k.Default)
		}
		usage += fmt.Sprintf(" [env %s]", k.Env)
		fs.Var(&flagValue{name: k.Flag, vals: vals, isBool: k.typ.Kind() == reflect.Bool}, k.Flag, usage)
	}
	return vals
}

type flagValue struct {
	name   string
	vals   FlagValues
	isBool bool
}

func (f *flagValue) String() string {
	if f == nil || f.vals == nil {
		return ""
	}
	return f.vals[f.name]
}

func (f *flagValue) Set(s string) error {
	f.vals[f.name] = s
	return nil
}

func (f *flagValue) IsBoolFlag() bool { return f.isBool }

// LoadRole loads a role's configuration over its defaults and validates it.
func LoadRole[T interface{ Validate() error }](defaults T, src Source) (T, error) {
	cfg := defaults
	if err := Load(&cfg, src); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
