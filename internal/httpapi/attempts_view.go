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

package httpapi

import (
	"time"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// JobAttempt is how one attempt of a job ended, as the controller saw its pod.
// Outcome is the controller's outcome in UPPER_SNAKE_CASE; reason is the
// Kubernetes reason as is (EvictionByEvictionAPI, PreemptionByScheduler,
// OOMKilled, DeadlineExceeded, ...).
type JobAttempt struct {
	Outcome              string     `json:"outcome"`
	Reason               string     `json:"reason,omitempty"`
	ExitCode             *int32     `json:"exitCode,omitempty"`
	StartedAt            *time.Time `json:"startedAt"`
	EndedAt              *time.Time `json:"endedAt"`
	CountsTowardsRetries bool       `json:"countsTowardsRetries"`
}

// attemptsOf renders status.attemptHistory; never nil, so clients always get an array.
func attemptsOf(records []v1alpha1.AttemptRecord) []JobAttempt {
	out := make([]JobAttempt, 0, len(records))
	for _, r := range records {
		out = append(out, JobAttempt{
			Outcome:   upperSnake(string(r.Outcome)),
			Reason:    r.Reason,
			ExitCode:  r.ExitCode,
			StartedAt: timePtr(r.StartTime),
			EndedAt:   timePtr(r.FinishTime),
			// What the Job's backoffLimit counts: failures of the work itself.
			// Disruptions are ignored by its pod failure policy; a deadline or a
			// cancellation ends the job rather than using up a retry.
			CountsTowardsRetries: r.Outcome == v1alpha1.AttemptFailed || r.Outcome == v1alpha1.AttemptLost,
		})
	}
	return out
}
