import sys
def load(fn):
    launches=[]; cur=None
    for line in open(fn):
        p=line.split()
        if p[0]=='L':
            cur=dict(call=int(p[1]),i=int(p[2]),name=p[3],n=int(p[4]),fs=int(p[5]),le=int(p[6]),blocks=[])
            launches.append(cur)
        else:
            cur['blocks'].append(tuple(int(x) for x in p[1:]))
    return launches
L=load(sys.argv[1])
c=max(l['call'] for l in L)
ls=[l for l in L if l['call']==c]
att=[l for l in ls if 'attention' in l['name']]
import statistics as st
names=['Q','tiles','partial','arrive1','merge1','end']
agg={k:[] for k in names}; mergers=[]; finals=[]
for a in att[2:-2]:
    bl=[b for b in a['blocks'] if b[2] <= b[9] and b[9]>0]
    for b in bl:
        idx,entry,beg,m5,m6,m7,m8,m9,ready,end,sm=b
        seq=[m5,m6,m7,m8 or None,m9 or None,end]
        prev=beg
        for k,v in zip(names,seq):
            if v: agg[k].append((v-prev)/1e3); prev=v
        if m9: mergers.append(((m9-m8)/1e3,(end-m9)/1e3))
    first_beg=min(b[2] for b in bl)
    finals.append(((max(b[9] for b in bl)-first_beg)/1e3, (st.median([b[9] for b in bl])-first_beg)/1e3, (max(b[7] for b in bl)-first_beg)/1e3))
for k in names:
    v=sorted(agg[k])
    if v: print('%-8s n=%5d  p10 %.2f  p50 %.2f  p90 %.2f  max %.2f' % (k,len(v),v[len(v)//10],v[len(v)//2],v[9*len(v)//10],v[-1]))
m1=sorted(x[0] for x in mergers); m2=sorted(x[1] for x in mergers)
print('group merge (m8->m9) p50 %.2f; after (m9->end, incl level-2 arrive/merge) p50 %.2f max %.2f' % (m1[len(m1)//2], m2[len(m2)//2], m2[-1]))
f=sorted(finals)
print('per launch from first begin: last end p50 %.2f, median end p50 %.2f, last partial written p50 %.2f' % (st.median(x[0] for x in f), st.median(x[1] for x in f), st.median(x[2] for x in f)))
