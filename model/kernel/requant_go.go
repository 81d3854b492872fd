package kernel

// requantGo is RequantRef on the 32-bit tables (Requant.V) when they exist:
// no branch per channel, the same bytes (the tables exist only where they
// are exact). RequantRef otherwise.
func requantGo(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8) {
	CheckRequant(rows, acc, q, res32, res8, rq, out)
	residual := res32 != nil || res8 != nil
	if q.V == nil || residual && rq.V == nil {
		RequantRef(rows, acc, q, res32, res8, rq, out)
		return
	}
	C := q.C
	qb, qm, qs := q.V[:C], q.V[C:2*C], q.V[2*C:3*C]
	var rb, rm, rs []int32
	if residual {
		rb, rm, rs = rq.V[:C], rq.V[C:2*C], rq.V[2*C:3*C]
	}
	for i := 0; i < rows*C; i += C {
		a, o := acc[i:i+C], out[i:i+C]
		switch {
		case res32 != nil:
			r := res32[i : i+C]
			for c := range o {
				v := int64(a[c]+qb[c]) * int64(qm[c]) >> qs[c]
				v += int64(r[c]+rb[c]) * int64(rm[c]) >> rs[c]
				o[c] = ToU8(v)
			}
		case res8 != nil:
			r := res8[i : i+C]
			for c := range o {
				v := int64(a[c]+qb[c]) * int64(qm[c]) >> qs[c]
				v += int64(int32(r[c])+rb[c]) * int64(rm[c]) >> rs[c]
				o[c] = ToU8(v)
			}
		default:
			for c := range o {
				o[c] = ToU8(int64(a[c]+qb[c]) * int64(qm[c]) >> qs[c])
			}
		}
	}
}
