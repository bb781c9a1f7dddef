import sys, statistics as st
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
fn=sys.argv[1]
L=load(fn)
calls=sorted(set(l['call'] for l in L))
c=calls[-1]
ls=[l for l in L if l['call']==c]
# timeline of one layer around attention index k
att=[l for l in ls if 'attention' in l['name']]
a=att[10]
idx=a['i']
t0=min(l['fs'] for l in ls if l['i']>=idx-3 and l['fs']>0)
for l in ls:
    if idx-3<=l['i']<=idx+2:
        print(l['i'], l['name'][:40], l['n'], 'start %.2f end %.2f' % ((l['fs']-t0)/1e3, (l['le']-t0)/1e3))
bl=[b for b in a['blocks'] if b[2] <= b[4] and b[4]>0]
print('blocks ran', len(bl), 'of', len(a['blocks']))
# b: idx, entry, begin, ready, end, sm
rel=lambda x:(x-t0)/1e3
ent=sorted(rel(b[1]) for b in bl); beg=sorted(rel(b[2]) for b in bl); end=sorted(rel(b[4]) for b in bl)
def q(v): return ' '.join('%.2f'%v[int(f*(len(v)-1))] for f in (0,.1,.25,.5,.75,.9,1))
print('entry', q(ent)); print('begin', q(beg)); print('end  ', q(end))
from collections import Counter
sms=Counter(b[5] for b in bl); print('SMs used', len(sms), 'max blocks/SM', max(sms.values()))
# late blocks: those with latest end
bl2=sorted(bl,key=lambda b:b[4])
for b in bl2[-12:]:
    print('late block', b[0], 'x',b[0]%2,'y',b[0]//2,'entry %.2f begin %.2f end %.2f sm %d'%(rel(b[1]),rel(b[2]),rel(b[4]),b[5]))
# entry spread: blocks entering late
late=[b for b in bl if rel(b[1])>ent[len(ent)//2]+1.0]
print('blocks entering >1us after median entry:', len(late))
