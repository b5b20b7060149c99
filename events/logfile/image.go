package logfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"

	"github.com/klauspost/compress/s2"
)

// Image is an export file held in memory as it was written
// (compressed): its records are read from it in order, and any payload
// again later by its offset, one block decompressed at a time.
//
// Holding the file rather than its decoded records keeps offline replay's
// memory near the file's size. Fresh memory is what loading a big export
// paid for most: on the benchmark VM every new page costs a fault of
// several microseconds, and a million decoded records with their payloads
// were 2.4 GB of them (docs/bench/timetravel.md).
type Image struct {
	header Header
	base   []byte
	blocks []imageBlock // the stream after the header, in order
}

// imageBlock is a piece of the stream after the header: one s2 chunk, or
// for a version-1 file the whole uncompressed rest.
type imageBlock struct {
	off        int64  // offset of its first byte in the decompressed stream
	n          int    // decompressed length
	data       []byte // as stored: an s2 block, or the bytes themselves
	compressed bool
	crc        uint32 // s2's masked CRC-32C of the decompressed bytes
	hasCRC     bool
}

// OpenImage checks an export file's magic and header, indexes its
// compressed blocks and reads the base snapshot. The image keeps data:
// the caller must not change it.
func OpenImage(data []byte) (*Image, error) {
	if !bytes.HasPrefix(data, []byte(exportMagic)) {
		return nil, errors.New("not a Strom log export (bad magic)")
	}
	rest := data[len(exportMagic):]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > 1<<20 || uint64(len(rest)-k) < n {
		return nil, errors.New("reading export header: truncated or corrupt header")
	}
	img := &Image{}
	if err := json.Unmarshal(rest[k:k+int(n)], &img.header); err != nil {
		return nil, fmt.Errorf("export header: %w", err)
	}
	rest = rest[k+int(n):]
	h := &img.header
	if h.Format != Format {
		return nil, fmt.Errorf("export format %q, want %q", h.Format, Format)
	}
	if h.Version < 1 || h.Version > Version {
		return nil, fmt.Errorf("export format version %d; this build reads up to %d", h.Version, Version)
	}
	switch {
	case h.Compression == "":
		img.blocks = []imageBlock{{n: len(rest), data: rest}}
	case h.Compression == CompressionS2 && h.Version >= 2:
		var err error
		if img.blocks, err = s2Blocks(rest); err != nil {
			return nil, fmt.Errorf("export body: %w", err)
		}
	default:
		return nil, fmt.Errorf("export compression %q (format version %d): this build reads %q", h.Compression, h.Version, CompressionS2)
	}
	c := img.cursor(true)
	bn, err := c.uvarint()
	if err == nil && bn > 4<<30 {
		err = fmt.Errorf("field of %d bytes (corrupt file?)", bn)
	}
	var b []byte
	if err == nil {
		b, err = c.take(int(bn))
	}
	if err != nil {
		return nil, fmt.Errorf("reading export base snapshot: %w", err)
	}
	if len(b) > 0 {
		img.base = bytes.Clone(b)
	}
	return img, nil
}

// s2 framing (the snappy framing format with s2's stream identifier):
// chunks of a type byte, a 3-byte little-endian length and a body.
const (
	s2ChunkCompressed   = 0x00
	s2ChunkUncompressed = 0x01
	s2ChunkStreamID     = 0xff
	s2StreamID          = "S2sTwO"
	snappyStreamID      = "sNaPpY"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// s2CRC is the framing format's masked CRC-32C.
func s2CRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b)
	return (c>>15 | c<<17) + 0xa282ead8
}

// s2Blocks indexes the data chunks of an s2 stream.
func s2Blocks(b []byte) ([]imageBlock, error) {
	var blocks []imageBlock
	var off int64
	for pos, first := 0, true; pos < len(b); first = false {
		if len(b)-pos < 4 {
			return nil, fmt.Errorf("chunk header at byte %d: %w", pos, io.ErrUnexpectedEOF)
		}
		typ, n := b[pos], int(b[pos+1])|int(b[pos+2])<<8|int(b[pos+3])<<16
		if len(b)-pos-4 < n {
			return nil, fmt.Errorf("chunk of %d bytes at byte %d: %w", n, pos, io.ErrUnexpectedEOF)
		}
		body := b[pos+4 : pos+4+n]
		pos += 4 + n
		if first && (typ != s2ChunkStreamID || (string(body) != s2StreamID && string(body) != snappyStreamID)) {
			return nil, errors.New("not an s2 stream (no stream identifier)")
		}
		switch {
		case typ == s2ChunkStreamID:
			if string(body) != s2StreamID && string(body) != snappyStreamID {
				return nil, fmt.Errorf("bad stream identifier %q", body)
			}
		case typ == s2ChunkCompressed || typ == s2ChunkUncompressed:
			if n < 4 {
				return nil, fmt.Errorf("data chunk of %d bytes at byte %d", n, pos-4-n)
			}
			blk := imageBlock{off: off, data: body[4:], crc: binary.LittleEndian.Uint32(body), hasCRC: true, n: n - 4}
			if typ == s2ChunkCompressed {
				dn, err := s2.DecodedLen(blk.data)
				if err != nil {
					return nil, fmt.Errorf("chunk at byte %d: %w", pos-4-n, err)
				}
				blk.n, blk.compressed = dn, true
			}
			if blk.n > 0 {
				blocks = append(blocks, blk)
				off += int64(blk.n)
			}
		case typ >= 0x80: // padding, index and other skippable chunks
		default:
			return nil, fmt.Errorf("unknown unskippable chunk type %#x at byte %d", typ, pos-4-n)
		}
	}
	return blocks, nil
}

// Header is the file's header.
func (img *Image) Header() Header { return img.header }

// Base is the base snapshot (nil: none).
func (img *Image) Base() []byte { return img.base }

// imageCursor reads the decompressed stream of an image.
type imageCursor struct {
	img     *Image
	bi      int    // the block in buf, -1 before the first
	buf     []byte // its decompressed bytes
	pos     int    // the next byte in buf
	dec     []byte // decompression buffer
	scratch []byte // bytes gathered across blocks
	verify  bool   // check each block's CRC as it is loaded
}

func (img *Image) cursor(verify bool) *imageCursor {
	return &imageCursor{img: img, bi: -1, verify: verify}
}

func (c *imageCursor) load(bi int) error {
	b := &c.img.blocks[bi]
	c.buf = b.data
	if b.compressed {
		if cap(c.dec) < b.n {
			c.dec = make([]byte, b.n)
		}
		out, err := s2.Decode(c.dec[:b.n], b.data)
		if err != nil {
			return fmt.Errorf("export block at offset %d: %w (corrupt file?)", b.off, err)
		}
		c.buf = out
	}
	if c.verify && b.hasCRC && s2CRC(c.buf) != b.crc {
		return fmt.Errorf("export block at offset %d: checksum mismatch (corrupt file)", b.off)
	}
	c.bi, c.pos = bi, 0
	return nil
}

// offset is the position of the next byte in the decompressed stream.
func (c *imageCursor) offset() int64 {
	if c.bi < 0 {
		return 0
	}
	return c.img.blocks[c.bi].off + int64(c.pos)
}

// ReadByte reads one byte (io.ByteReader, for the slow path of varints).
func (c *imageCursor) ReadByte() (byte, error) {
	for c.pos == len(c.buf) {
		if c.bi+1 >= len(c.img.blocks) {
			return 0, io.ErrUnexpectedEOF
		}
		if err := c.load(c.bi + 1); err != nil {
			return 0, err
		}
	}
	b := c.buf[c.pos]
	c.pos++
	return b, nil
}

func (c *imageCursor) uvarint() (uint64, error) {
	v, n := binary.Uvarint(c.buf[c.pos:])
	if n > 0 {
		c.pos += n
		return v, nil
	}
	if n < 0 {
		return 0, errors.New("varint overflows 64 bits (corrupt file?)")
	}
	v, err := binary.ReadUvarint(c)
	return v, noEOF(err)
}

// varint reads a zigzag-encoded signed varint (binary.AppendVarint's).
func (c *imageCursor) varint() (int64, error) {
	u, err := c.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, err
}

// take returns the next n bytes: a piece of the current block, or of
// the scratch buffer when they cross blocks. They are valid until the
// cursor reads again.
func (c *imageCursor) take(n int) ([]byte, error) {
	if len(c.buf)-c.pos >= n {
		b := c.buf[c.pos : c.pos+n : c.pos+n]
		c.pos += n
		return b, nil
	}
	c.scratch = c.scratch[:0]
	for n > 0 {
		if c.pos == len(c.buf) {
			if c.bi+1 >= len(c.img.blocks) {
				return nil, io.ErrUnexpectedEOF
			}
			if err := c.load(c.bi + 1); err != nil {
				return nil, err
			}
			continue
		}
		k := min(n, len(c.buf)-c.pos)
		c.scratch = append(c.scratch, c.buf[c.pos:c.pos+k]...)
		c.pos += k
		n -= k
	}
	return c.scratch, nil
}

// seek moves the cursor to off in the decompressed stream.
func (c *imageCursor) seek(off int64) error {
	bl := c.img.blocks
	i := sort.Search(len(bl), func(i int) bool { return bl[i].off+int64(bl[i].n) > off })
	if i == len(bl) || off < 0 {
		return fmt.Errorf("offset %d is outside the export", off)
	}
	if i != c.bi {
		if err := c.load(i); err != nil {
			return err
		}
	}
	c.pos = int(off - bl[i].off)
	return nil
}

// Record is one record as Records reads it: one value reused
// for every record.
type Record struct {
	Seq     uint64
	Stamp   int64  // stream time, Unix nanoseconds
	Subject string // interned: records of one object share it
	// SubjectID numbers the distinct subjects in the order they first
	// appear: 0, 1, 2...
	SubjectID uint32
	// Pairs are the headers: key, value, key, value... Keys are interned,
	// the values are pieces of one string per record.
	Pairs []string
	// Data is the payload, valid until the next record is read; DataOff
	// is where it starts in the image, for PayloadReader.
	Data    []byte
	DataOff int64
}

// Get returns the header's value ("" if absent).
func (r *Record) Get(key string) string {
	for i := 0; i+1 < len(r.Pairs); i += 2 {
		if r.Pairs[i] == key {
			return r.Pairs[i+1]
		}
	}
	return ""
}

// Records reads an image's records in order.
type Records struct {
	c        *imageCursor
	first    uint64
	count    uint64
	done     bool
	keys     map[string]string // interned header keys
	subjects map[string]uint32 // subject -> SubjectID
	subjList []string          // by SubjectID
	prevKeys []string          // the last record's keys: the next has the same, mostly
	vals     []byte            // a record's header values
	offs     []int
	rec      Record
}

// Records reads the image's records from the first. Each block's
// checksum is verified as it is read.
func (img *Image) Records() *Records {
	c := img.cursor(true)
	// Past the base snapshot (OpenImage has read it once).
	if n, _ := c.uvarint(); n > 0 {
		_ = c.seek(c.offset() + int64(n))
	}
	return &Records{c: c, first: img.header.FirstSeq, keys: map[string]string{}, subjects: map[string]uint32{}}
}

// Next returns the next record, or io.EOF after the last one. A file that
// ends without its trailer, or whose trailer count disagrees, is an error.
func (r *Records) Next() (*Record, error) {
	if r.done {
		return nil, io.EOF
	}
	rec, err := r.next()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("export record %d (after #%d): %w", r.count+1, r.first+r.count-1, err)
	}
	return rec, err
}

func (r *Records) next() (*Record, error) {
	c := r.c
	seq, err := c.uvarint()
	if err != nil {
		return nil, err
	}
	if seq == 0 {
		n, err := c.uvarint()
		if err != nil {
			return nil, err
		}
		if n != r.count {
			return nil, fmt.Errorf("trailer says %d records, read %d", n, r.count)
		}
		r.done = true
		return nil, io.EOF
	}
	m := &r.rec
	m.Seq = seq
	if m.Stamp, err = c.varint(); err != nil {
		return nil, err
	}
	sb, err := r.field(1<<20, "subject")
	if err != nil {
		return nil, err
	}
	id, ok := r.subjects[string(sb)]
	if !ok {
		id = uint32(len(r.subjList))
		r.subjList = append(r.subjList, string(sb))
		r.subjects[r.subjList[id]] = id
	}
	m.Subject, m.SubjectID = r.subjList[id], id
	nh, err := c.uvarint()
	if err != nil {
		return nil, err
	}
	if nh > 1024 {
		return nil, fmt.Errorf("%d headers (corrupt file?)", nh)
	}
	m.Pairs = make([]string, 2*nh)
	r.vals, r.offs = r.vals[:0], r.offs[:0]
	for i := range int(nh) {
		k, err := r.field(1<<20, "header key")
		if err != nil {
			return nil, err
		}
		if i < len(r.prevKeys) && r.prevKeys[i] == string(k) {
			m.Pairs[2*i] = r.prevKeys[i]
		} else if v, ok := r.keys[string(k)]; ok {
			m.Pairs[2*i] = v
		} else {
			m.Pairs[2*i] = string(k)
			r.keys[m.Pairs[2*i]] = m.Pairs[2*i]
		}
		n, err := c.uvarint()
		if err != nil {
			return nil, err
		}
		if n > 1<<20 {
			return nil, fmt.Errorf("header value of %d bytes (corrupt file?)", n)
		}
		v, err := c.take(int(n))
		if err != nil {
			return nil, err
		}
		r.offs = append(r.offs, len(r.vals))
		r.vals = append(r.vals, v...)
	}
	r.prevKeys = r.prevKeys[:0]
	for i := 0; i < len(m.Pairs); i += 2 {
		r.prevKeys = append(r.prevKeys, m.Pairs[i])
	}
	all := string(r.vals)
	for i, start := range r.offs {
		end := len(all)
		if i+1 < len(r.offs) {
			end = r.offs[i+1]
		}
		m.Pairs[2*i+1] = all[start:end]
	}
	n, err := c.uvarint()
	if err != nil {
		return nil, err
	}
	if n > 64<<20 {
		return nil, fmt.Errorf("payload of %d bytes (corrupt file?)", n)
	}
	m.DataOff = c.offset()
	if m.Data, err = c.take(int(n)); err != nil {
		return nil, err
	}
	r.count++
	return m, nil
}

// field reads a length-prefixed field; the bytes are valid until the
// cursor reads again.
func (r *Records) field(limit uint64, what string) ([]byte, error) {
	n, err := r.c.uvarint()
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%s of %d bytes (corrupt file?)", what, n)
	}
	return r.c.take(int(n))
}

// PayloadReader reads payloads back from an image by their offsets,
// keeping the last block it decompressed: a walk in order decompresses
// each block once. It is not safe for concurrent use; make one per walk.
type PayloadReader struct{ c *imageCursor }

// Payloads returns a PayloadReader of the image.
func (img *Image) Payloads() *PayloadReader {
	return &PayloadReader{c: img.cursor(false)}
}

// Read returns a copy of the n bytes at off.
func (p *PayloadReader) Read(off int64, n int) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	if err := p.c.seek(off); err != nil {
		return nil, err
	}
	b, err := p.c.take(n)
	if err != nil {
		return nil, fmt.Errorf("payload at offset %d: %w", off, err)
	}
	return bytes.Clone(b), nil
}
