// Command portapp is an app that is not Slipway's sample app, for the local
// package's tests: it listens on $PORT only, its health check is /up
// (/healthz answers 404), and it says what a test needs to see. GET /whoami
// answers {"stack", "port", "commit", "host"}; GET /env/NAME answers the
// value of variable NAME in its environment (404 when unset). It prints
// nothing of its environment.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

var version, commit = "dev", "unknown" // set by the build (-X)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		log.Fatal("portapp: PORT is not set")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /up", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "up")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "portapp's health check is /up", http.StatusNotFound)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"stack": os.Getenv("SLIPWAY_STACK"), "port": port, "commit": commit, "version": version, "host": r.Host,
		})
	})
	mux.HandleFunc("GET /env/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := os.LookupEnv(r.PathValue("name"))
		if !ok {
			http.Error(w, "unset", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, v)
	})
	log.Printf("portapp %s listening on :%s", version, port)
	s := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(s.ListenAndServe())
}
