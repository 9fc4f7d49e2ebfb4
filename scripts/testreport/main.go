// Command testreport reads `go test -json` on stdin and prints a short
// report: one line per package, the output of every failing test, the reason
// of every skip, the store tests counted per database engine, and a closing
// "N passed, N failed, N skipped" line. It exits 1 when anything failed or
// no test ran, so `make test` fails with it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
	Elapsed    float64
}

type counts struct{ passed, failed, skipped int }

func main() { os.Exit(report(os.Stdin, os.Stdout)) }

func report(in io.Reader, out io.Writer) int {
	var (
		total      counts
		engines    = map[string]*counts{"sqlite": {}, "postgres": {}}
		output     = map[string][]string{} // package/test -> lines
		failedPkgs []string
		skips      []string
		buildFail  bool
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(out, string(line)) // not from go test -json: pass it on
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			buildFail = true
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				switch e.Action {
				case "pass":
					fmt.Fprintf(out, "ok   %s %.2fs\n", e.Package, e.Elapsed)
				case "skip":
					fmt.Fprintf(out, "-    %s (no tests)\n", e.Package)
				case "fail":
					fmt.Fprintf(out, "FAIL %s %.2fs\n", e.Package, e.Elapsed)
					failedPkgs = append(failedPkgs, e.Package)
				}
				continue
			}
			c := &total
			var ec *counts
			if i := strings.LastIndexByte(e.Test, '/'); i >= 0 {
				ec = engines[e.Test[i+1:]]
			}
			switch e.Action {
			case "pass":
				c.passed++
				if ec != nil {
					ec.passed++
				}
			case "fail":
				c.failed++
				if ec != nil {
					ec.failed++
				}
				fmt.Fprintf(out, "--- FAIL %s %s\n%s", e.Package, e.Test, strings.Join(output[key], ""))
			case "skip":
				c.skipped++
				if ec != nil {
					ec.skipped++
				}
				skips = append(skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, skipReason(output[key])))
			}
			delete(output, key)
		}
	}
	// A package that failed outside any test (a panic in TestMain, a
	// timeout) has its output under the package key.
	sort.Strings(failedPkgs)
	for _, p := range failedPkgs {
		if lines := output[p+" "]; len(lines) > 0 {
			fmt.Fprintf(out, "--- FAIL %s (outside tests)\n%s", p, strings.Join(lines, ""))
		}
	}
	for _, s := range skips {
		fmt.Fprintf(out, "skip %s\n", s)
	}
	fmt.Fprintf(out, "store engines: sqlite %d passed, %d failed, %d skipped; postgres %d passed, %d failed, %d skipped\n",
		engines["sqlite"].passed, engines["sqlite"].failed, engines["sqlite"].skipped,
		engines["postgres"].passed, engines["postgres"].failed, engines["postgres"].skipped)
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
	switch {
	case sc.Err() != nil:
		fmt.Fprintf(out, "testreport: reading go test output: %v\n", sc.Err())
		return 1
	case buildFail || total.failed > 0 || len(failedPkgs) > 0:
		return 1
	case total.passed == 0:
		fmt.Fprintln(out, "testreport: no test ran")
		return 1
	}
	return 0
}

func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if _, after, ok := strings.Cut(l, ": "); ok && strings.Contains(l, ".go:") {
			return after
		}
		return l
	}
	return "(no reason given)"
}
