/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command worker is the test workload image's only binary for the local
// cluster's real node. By default it logs, writes WORKER_RESULT (default a
// small JSON document) as its termination message and exits with
// WORKER_EXIT_CODE; it prints its pod's name (its hostname), and with
// WORKER_PAUSE (a Go duration) it prints a line, sleeps that long and prints
// another before going on, so a followed log can be seen to arrive live. With WORKER_SERVE set to an address it serves HTTP there
// until stopped instead: GET /apiserver-version answers with the API
// server's /version, fetched the way in-cluster clients reach it (the
// kubernetes Service's IP, the pod's service account token and CA).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if addr := os.Getenv("WORKER_SERVE"); addr != "" {
		serve(addr)
		return
	}
	result := os.Getenv("WORKER_RESULT")
	if result == "" {
		result = `{"worker":"done"}`
	}
	fmt.Println("worker: started")
	host, _ := os.Hostname()
	fmt.Println("worker: pod", host)
	if pause, err := time.ParseDuration(os.Getenv("WORKER_PAUSE")); err == nil {
		fmt.Println("worker: pausing for", pause)
		time.Sleep(pause)
		fmt.Println("worker: resumed")
	}
	if err := os.WriteFile("/dev/termination-log", []byte(result), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "worker: write termination message:", err)
		os.Exit(2)
	}
	fmt.Println("worker: result written")
	code, _ := strconv.Atoi(os.Getenv("WORKER_EXIT_CODE"))
	os.Exit(code)
}

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func serve(addr string) {
	http.HandleFunc("/apiserver-version", func(w http.ResponseWriter, r *http.Request) {
		body, err := apiserverVersion()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write(body)
	})
	fmt.Println("worker: serving on", addr)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func apiserverVersion() ([]byte, error) {
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	host := net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"))
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/version", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/version: %s", host, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
