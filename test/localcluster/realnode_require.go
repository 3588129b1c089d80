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

package localcluster

import (
	"os"
	"testing"
)

// RequireRealNodeEnv set to 1 turns the real-node tests' skips into failures.
// CI sets it (.ci/run), so it cannot go green when the real node is missing,
// for instance because hack/real-node-deps.sh could not install its packages.
const RequireRealNodeEnv = "ASYNCJOB_REQUIRE_REAL_NODE"

// RealNodeRequired reports whether RequireRealNodeEnv is set to 1.
func RealNodeRequired() bool { return os.Getenv(RequireRealNodeEnv) == "1" }

// SkipWithoutRealNode skips t, saying why, when this machine cannot run the
// real node, or fails it when RequireRealNodeEnv is set. what names what
// needs the real node.
func SkipWithoutRealNode(t testing.TB, what string) {
	t.Helper()
	err := RealNodeUnavailable()
	if err == nil {
		return
	}
	if RealNodeRequired() {
		t.Fatalf("%s needs the real node, and %s=1 requires it: %v", what, RequireRealNodeEnv, err)
	}
	t.Skipf("skipped: %s needs the real node: %v (set %s=1 to fail instead)", what, err, RequireRealNodeEnv)
}
