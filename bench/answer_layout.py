import sqlite3, time, json, random, os
N=100_000; ITEMS=40
random.seed(1)
rows=[[random.choice("1234") if random.random()>0.05 else "dk" for _ in range(ITEMS)] for _ in range(N)]
def fresh(name):
    if os.path.exists(name): os.remove(name)
    c=sqlite3.connect(name); c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=normal"); return c
res={}
# long layout
c=fresh("long.db")
c.execute("create table responses(id integer primary key, unit int)")
c.execute("create table answers(response_id int, item text, value text, primary key(response_id,item)) without rowid")
t=time.perf_counter()
with c:
    for i,r in enumerate(rows):
        c.execute("insert into responses values(?,?)",(i,i%63))
        c.executemany("insert into answers values(?,?,?)",[(i,f"q{j:02d}",v) for j,v in enumerate(r)])
res['long insert s']=time.perf_counter()-t
t=time.perf_counter(); c.execute("select r.unit,a.item,a.value,count(*) from answers a join responses r on r.id=a.response_id group by 1,2,3").fetchall(); res['long aggregate s']=time.perf_counter()-t
t=time.perf_counter(); n=0
for row in c.execute("select response_id,item,value from answers order by response_id,item"): n+=1
res['long export scan s']=time.perf_counter()-t
c.close(); res['long size MB']=os.path.getsize("long.db")/1e6
# compact
c=fresh("compact.db")
c.execute("create table responses(id integer primary key, unit int, answers text)")
c.execute("create table tallies(unit int,item text,value text,count int, primary key(unit,item,value)) without rowid")
t=time.perf_counter()
with c:
    for i,r in enumerate(rows):
        c.execute("insert into responses values(?,?,?)",(i,i%63,json.dumps({f"q{j:02d}":v for j,v in enumerate(r)},separators=(',',':'))))
        c.executemany("insert into tallies values(?,?,?,1) on conflict do update set count=count+1",[(i%63,f"q{j:02d}",v) for j,v in enumerate(r)])
res['compact insert+tally s']=time.perf_counter()-t
t=time.perf_counter(); c.execute("select unit,item,value,count from tallies").fetchall(); res['compact aggregate (tallies) s']=time.perf_counter()-t
t=time.perf_counter(); n=0
for (a,) in c.execute("select answers from responses order by id"): json.loads(a); n+=1
res['compact export scan+parse s']=time.perf_counter()-t
c.close(); res['compact size MB']=os.path.getsize("compact.db")/1e6
for k,v in res.items(): print(f"{k}: {v:.2f}")
