package config

import (
	"encoding"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// tableDecoder decodes a TOML table into a struct key by key when the
// table as a whole does not decode, so that one bad value neither hides
// the next one nor the unknown keys after it: every problem of a section
// is reported, each at its key.
type tableDecoder struct {
	md toml.MetaData
	// report is told each key whose value is wrong (msg says why) or
	// that names no option (msg is "").
	report func(key, msg string)
}

// decode decodes prim into dst (a struct), reporting under path ("virus",
// "virus.clamd").
func (d tableDecoder) decode(prim toml.Primitive, dst reflect.Value, path string) {
	if d.md.PrimitiveDecode(prim, dst.Addr().Interface()) == nil {
		return
	}
	var keys map[string]toml.Primitive
	if err := d.md.PrimitiveDecode(prim, &keys); err != nil {
		_, msg := decodeMsg(err)
		d.report(path, msg+" (want a table)")
		return
	}
	// Decoding into the map marked every key as read: the keys that name
	// no option are reported here rather than by MetaData.Undecoded.
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		key := path + "." + name
		f, ok := fieldByTag(dst, name)
		if !ok {
			d.report(key, "")
			continue
		}
		if f.Kind() == reflect.Struct && !leaf(f) {
			d.decode(keys[name], f, key)
			continue
		}
		if err := d.md.PrimitiveDecode(keys[name], f.Addr().Interface()); err != nil {
			_, msg := decodeMsg(err)
			d.report(key, msg)
		}
	}
}

// fieldByTag returns the field of the struct v whose toml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if strings.Split(t.Field(i).Tag.Get("toml"), ",")[0] == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// leaf reports whether a struct field decodes itself from one value
// (Setting) rather than being a table of options.
func leaf(f reflect.Value) bool {
	p := f.Addr().Interface()
	_, u := p.(toml.Unmarshaler)
	_, tu := p.(encoding.TextUnmarshaler)
	return u || tu
}

// underFailed reports whether key is, or lies under, a key whose value
// could not be decoded (the decoder stopped there: what follows is not
// unknown, only unread).
func underFailed(key toml.Key, failed map[string]bool) bool {
	for i := len(key); i > 0; i-- {
		if failed[key[:i].String()] {
			return true
		}
	}
	return false
}
