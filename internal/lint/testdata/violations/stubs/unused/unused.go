// Package unused is required by the fixture but imported by nothing.
package unused
