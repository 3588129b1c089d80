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

package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAsyncJobTypeIsReady(t *testing.T) {
	ready := func(status metav1.ConditionStatus, observed int64) []metav1.Condition {
		return []metav1.Condition{{Type: TypeConditionReady, Status: status, ObservedGeneration: observed}}
	}
	cases := []struct {
		name       string
		generation int64
		conditions []metav1.Condition
		want       bool
	}{
		{name: "Ready for the current generation", generation: 2, conditions: ready(metav1.ConditionTrue, 2), want: true},
		{name: "Ready for an older generation: the new spec is unchecked", generation: 3, conditions: ready(metav1.ConditionTrue, 2)},
		{name: "Ready without an observed generation", generation: 1, conditions: ready(metav1.ConditionTrue, 0)},
		{name: "not Ready", generation: 1, conditions: ready(metav1.ConditionFalse, 1)},
		{name: "no condition yet", generation: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jt := &AsyncJobType{ObjectMeta: metav1.ObjectMeta{Generation: tc.generation}, Status: AsyncJobTypeStatus{Conditions: tc.conditions}}
			if got := jt.IsReady(); got != tc.want {
				t.Errorf("IsReady() = %v, want %v", got, tc.want)
			}
		})
	}
}
