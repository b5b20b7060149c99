package probes

// Tracker applies success and failure thresholds to probe results: the
// result flips to Success after successThreshold consecutive successes and
// to Failure after failureThreshold consecutive failures.
type Tracker struct {
	SuccessThreshold int
	FailureThreshold int
	result           Result
	run              int    // length of the current streak
	last             Result // result of the current streak
}

// NewTracker returns a tracker starting at initial; thresholds below 1 are 1.
func NewTracker(initial Result, successThreshold, failureThreshold int) *Tracker {
	if successThreshold < 1 {
		successThreshold = 1
	}
	if failureThreshold < 1 {
		failureThreshold = 1
	}
	return &Tracker{SuccessThreshold: successThreshold, FailureThreshold: failureThreshold, result: initial}
}

// Result is the current thresholded result.
func (t *Tracker) Result() Result { return t.result }

// Observe records one probe result and reports whether the thresholded
// result changed.
func (t *Tracker) Observe(r Result) bool {
	if r == t.last {
		t.run++
	} else {
		t.last, t.run = r, 1
	}
	need := t.FailureThreshold
	if r == Success {
		need = t.SuccessThreshold
	}
	if t.run >= need && t.result != r {
		t.result = r
		return true
	}
	return false
}
