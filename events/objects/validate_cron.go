package objects

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron schedules follow the standard five-field syntax Kubernetes accepts:
// minute hour day-of-month month day-of-week, each a comma-separated list
// of "*", "?", a value, or a range "a-b", optionally stepped with "/n";
// months and weekdays may be named (jan, mon). The descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly and
// "@every <duration>" are accepted too. Time zones go in spec.timeZone.

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{name: "day of week", min: 0, max: 6, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
}

var cronDescriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// validateCronSchedule returns why a schedule is not valid, or nil.
func validateCronSchedule(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return errors.New("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
	if strings.HasPrefix(s, "@") {
		if cronDescriptors[s] {
			return nil
		}
		if d, ok := strings.CutPrefix(s, "@every "); ok {
			dur, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				return fmt.Errorf("failed to parse duration %s: %w", d, err)
			}
			if dur < time.Second {
				return fmt.Errorf("@every duration must be at least 1s, got %s", d)
			}
			return nil
		}
		return fmt.Errorf("unrecognized descriptor: %s", s)
	}
	fields := strings.Fields(s)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("expected exactly 5 fields, found %d: %s", len(fields), s)
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return err
		}
	}
	return nil
}

func (cf cronField) check(expr string) error {
	for _, item := range strings.Split(expr, ",") {
		if err := cf.checkItem(item); err != nil {
			return fmt.Errorf("%s field %q: %w", cf.name, expr, err)
		}
	}
	return nil
}

func (cf cronField) checkItem(item string) error {
	rng, stepStr, hasStep := strings.Cut(item, "/")
	if hasStep {
		step, err := strconv.Atoi(stepStr)
		if err != nil || step <= 0 {
			return fmt.Errorf("step %q must be a positive number", stepStr)
		}
	}
	if rng == "*" || rng == "?" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	start, err := cf.value(lo)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	end, err := cf.value(hi)
	if err != nil {
		return err
	}
	if start > end {
		return fmt.Errorf("beginning of range (%d) beyond end of range (%d)", start, end)
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	if v, ok := cf.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < cf.min || v > cf.max {
		return 0, fmt.Errorf("%d is out of range [%d, %d]", v, cf.min, cf.max)
	}
	return v, nil
}
