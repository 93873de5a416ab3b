package rebuild

import "strings"

// TagSubject puts tag (such as "{Virus?}" or "{Filename?}") at the start
// of subject, separated by a space, unless subject already carries it
// anywhere (a reply to a tagged message keeps a single tag). An empty tag
// leaves subject alone; an empty subject becomes the tag.
func TagSubject(subject, tag string) string {
	tag = strings.TrimSpace(tag)
	if tag == "" || strings.Contains(subject, tag) {
		return subject
	}
	s := strings.TrimLeft(subject, " \t")
	if s == "" {
		return tag
	}
	return tag + " " + s
}
