// Command hello is the smallest program the image tests put in an image: it
// prints the version and commit stamped in at link time.
package main

import "fmt"

// Set with -ldflags "-X main.version=... -X main.commit=...".
var version, commit string

func main() {
	fmt.Printf("hello version=%s commit=%s\n", version, commit)
}
