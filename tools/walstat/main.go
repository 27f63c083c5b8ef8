// Command walstat counts what SQLite's write-ahead log holds: the commits in it, and for each
// table and index how many pages (log frames) a commit wrote. Every frame is a page written
// twice (to the log, then to the database file) and a part of each commit's sync, so a tree
// that writes more pages than the rows it gained is where a write path can be made cheaper
// (BENCHMARKS.md, issue 14: a descending time index wrote three pages a commit).
//
// Run it on a data folder during a load (the gateway empties the log several times a second,
// so it holds the last fraction of a second of commits), or after the gateway was killed in
// one (a clean stop empties the log):
//
//	walstat [-per contacts] DATA/sportello.db
//
// -per names a tree whose every row takes a page of its own (contacts, whose body fills most
// of a page): the counts are then also given per row of it, an estimate of per message.
// Frames are taken while their salts match the log's header; their checksums are not verified,
// which is enough for counting.
package main

import (
	"cmp"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	_ "modernc.org/sqlite"
)

func main() {
	per := flag.String("per", "", "also give the counts per page of this tree (a table whose rows take a page each)")
	flag.Usage = func() {
		_, _ = fmt.Fprintln(flag.CommandLine.Output(), "usage: walstat [-per TREE] DATABASE-FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, flag.Arg(0), *per); err != nil {
		fmt.Fprintln(os.Stderr, "walstat:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, dbFile, per string) error {
	wal, err := os.ReadFile(dbFile + "-wal")
	if err != nil {
		return err
	}
	commits, err := readCommits(wal)
	if err != nil {
		return err
	}
	if len(commits) == 0 {
		return errors.New("the log holds no commit: run it during a load, or on a copy taken before the gateway stopped")
	}
	trees, err := treeOfPage(dbFile)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	frames := 0
	for _, c := range commits {
		frames += len(c)
		for _, page := range c {
			name, ok := trees[page]
			if !ok {
				name = "(page not in the database yet)"
			}
			counts[name]++
		}
	}
	n := float64(len(commits))
	unit := 0.0
	if per != "" {
		unit = float64(counts[per]) / n
		if unit == 0 {
			return fmt.Errorf("no frame of %q in the log", per)
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d commits, %.1f frames a commit", len(commits), float64(frames)/n)
	if unit > 0 {
		fmt.Fprintf(&out, ", %.2f pages of %s a commit: %.2f frames a row of it", unit, per, float64(frames)/n/unit)
	}
	out.WriteByte('\n')
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	for _, name := range names {
		fmt.Fprintf(&out, "%-40s %6.2f a commit", name, float64(counts[name])/n)
		if unit > 0 {
			fmt.Fprintf(&out, "  %5.2f a row of %s", float64(counts[name])/n/unit, per)
		}
		out.WriteByte('\n')
	}
	_, err = io.WriteString(w, out.String())
	return err
}

// readCommits returns the pages of each committed transaction in the log, in order.
func readCommits(wal []byte) ([][]uint32, error) {
	const headerSize, frameHeaderSize = 32, 24
	if len(wal) < headerSize {
		return nil, errors.New("the log is empty")
	}
	if magic := binary.BigEndian.Uint32(wal); magic != 0x377f0682 && magic != 0x377f0683 {
		return nil, fmt.Errorf("not a SQLite write-ahead log (magic %#x)", magic)
	}
	pageSize := int(binary.BigEndian.Uint32(wal[8:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("page size %d in the log's header", pageSize)
	}
	salt := wal[16:24]
	var commits [][]uint32
	var current []uint32
	for off := headerSize; off+frameHeaderSize+pageSize <= len(wal); off += frameHeaderSize + pageSize {
		h := wal[off : off+frameHeaderSize]
		if string(h[8:16]) != string(salt) {
			break // a frame of an earlier pass through the log
		}
		current = append(current, binary.BigEndian.Uint32(h))
		if binary.BigEndian.Uint32(h[4:]) != 0 { // a commit frame holds the database's size
			commits = append(commits, current)
			current = nil
		}
	}
	return commits, nil
}

// treeOfPage names the table or index each page of the database belongs to.
func treeOfPage(dbFile string) (map[uint32]string, error) {
	db, err := sql.Open("sqlite", "file:"+dbFile+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	rows, err := db.Query("SELECT name, pageno FROM dbstat")
	if err != nil {
		return nil, fmt.Errorf("reading the database's pages: %w", err)
	}
	defer func() { _ = rows.Close() }()
	trees := map[uint32]string{}
	for rows.Next() {
		var name string
		var page uint32
		if err := rows.Scan(&name, &page); err != nil {
			return nil, err
		}
		trees[page] = name
	}
	return trees, rows.Err()
}
