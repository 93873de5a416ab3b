package config

import "fmt"

func sprint(c *Config) string { return fmt.Sprintf("%+v", *c) }
