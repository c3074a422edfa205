"""The compression and database modules built into python.wasm work inside the guest, and
sqlite3 reaches no file: the guest's only folder is its read-only standard library."""

from __future__ import annotations

import io
import json

import pytest
from sandbox_support import link_cache_into, new_sandbox, shared_cache

from engine.settings import paths
from tui.cli import main
from wasm_sandbox import Limits, runtime


@pytest.fixture(scope="module")
def box():
    sandbox, _platform = new_sandbox(shared_cache(), Limits(cpu_seconds=10.0, wall_seconds=20.0))
    yield sandbox
    sandbox.close()


def run_ok(box, code: str) -> list[str]:
    result = box.run(code)
    assert result.error is None, result.error
    return result.output.splitlines()


def test_zlib_and_gzip_round_trip(box):
    lines = run_ok(box, (
        "import gzip, zlib\n"
        "data = ('the quick brown fox ' * 500).encode()\n"
        "packed = zlib.compress(data, 9)\n"
        "print(len(packed) < len(data) // 20, zlib.decompress(packed) == data)\n"
        "print(gzip.decompress(gzip.compress(data)) == data, zlib.crc32(b'abc'))\n"
        "d = zlib.decompressobj(wbits=31)\n"
        "print(d.decompress(gzip.compress(b'stream')) + d.flush())\n"
    ))
    assert lines == ["True True", "True 891568578", "b'stream'"]


def test_bz2_and_lzma_round_trip(box):
    lines = run_ok(box, (
        "import bz2, lzma\n"
        "data = bytes(range(256)) * 200\n"
        "print(bz2.decompress(bz2.compress(data)) == data)\n"
        "for fmt in (lzma.FORMAT_XZ, lzma.FORMAT_ALONE):\n"
        "    print(lzma.decompress(lzma.compress(data, format=fmt)) == data)\n"
        "print(lzma.is_check_supported(lzma.CHECK_SHA256))\n"
    ))
    assert lines == ["True", "True", "True", "True"]


def test_sqlite_in_memory_database_answers_a_query(box):
    lines = run_ok(box, (
        "import sqlite3\n"
        "db = sqlite3.connect(':memory:')\n"
        "db.execute('create table users (id integer primary key, name text, team int)')\n"
        "db.executemany('insert into users (name, team) values (?, ?)',\n"
        "               [(f'user{i}', i % 3) for i in range(30)])\n"
        "rows = db.execute('select team, count(*), max(name) from users '\n"
        "                  'group by team order by team').fetchall()\n"
        "print(rows)\n"
        "print(db.execute('select sqrt(16), json_extract(?, \"$.a\")', ('{\"a\": 5}',))"
        ".fetchone())\n"
        # a sort far bigger than the page cache (2 MB) spills to temporary storage, which stays
        # in memory even when a program asks for files (the guest has no writable folder)
        "db.execute('pragma temp_store = file')\n"
        "db.execute('create table big as with recursive c(x) as (select 1 union all '\n"
        "           'select x + 1 from c where x < 100000) select hex(randomblob(16)) as h '\n"
        "           'from c')\n"
        "db.execute('create table ordered as select h from big order by h')\n"
        "print(db.execute('select count(*) from ordered').fetchone())\n"
    ))
    assert lines[0] == "[(0, 10, 'user9'), (1, 10, 'user7'), (2, 10, 'user8')]"
    assert lines[1] == "(4.0, 5)"
    assert lines[2] == "(100000,)"


def test_sqlite_cannot_create_or_write_a_file(box):
    stdlib = runtime.prepare(shared_cache()).stdlib_dir
    assert stdlib is not None
    before = sorted(p.name for p in stdlib.rglob("*"))
    lines = run_ok(box, (
        "import sqlite3\n"
        "for path in ['/usr/local/lib/x.db', '/usr/local/lib/python3.13/x.db', '/tmp/x.db',\n"
        "             'x.db', 'file:/usr/local/lib/y.db?mode=rwc']:\n"
        "    try:\n"
        "        db = sqlite3.connect(path, uri=path.startswith('file:'))\n"
        "        db.execute('create table t (x)')\n"
        "        print('created', path)\n"
        "    except sqlite3.Error as exc:\n"
        "        print(type(exc).__name__, exc)\n"
        "db = sqlite3.connect(':memory:')\n"
        "try:\n"
        "    db.execute(\"attach database '/usr/local/lib/z.db' as z\")\n"
        "    db.execute('create table z.t (x)')\n"
        "    print('attached')\n"
        "except sqlite3.Error as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    ))
    assert len(lines) == 6 and not any(line.startswith(("created", "attached")) for line in lines)
    assert all(line.startswith("OperationalError") for line in lines), lines
    assert sorted(p.name for p in stdlib.rglob("*")) == before


def test_sqlite_reads_only_what_the_guest_sees(box):
    lines = run_ok(box, (
        "import sqlite3\n"
        "for uri in ['file:/usr/local/lib/python313.zip?immutable=1',\n"
        "            'file:/usr/local/lib/missing.db?mode=ro', 'file:/etc/passwd?immutable=1']:\n"
        "    try:\n"
        "        sqlite3.connect(uri, uri=True).execute('select * from sqlite_master')\n"
        "    except sqlite3.Error as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    ))
    assert lines == ["DatabaseError file is not a database",
                     "OperationalError unable to open database file",
                     "OperationalError unable to open database file"]


def test_the_command_line_runs_a_program_using_sqlite_and_zlib(monkeypatch, capsys):
    link_cache_into(shared_cache(), paths().wasm_cache)
    program = (
        "import sqlite3, zlib\n"
        "db = sqlite3.connect(':memory:')\n"
        "db.execute('create table t (blob)')\n"
        "db.execute('insert into t values (?)', (zlib.compress(b'hello ' * 10),))\n"
        "print(zlib.decompress(db.execute('select blob from t').fetchone()[0])[:11])\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(program))
    assert main(["sandbox", "run", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["error"] is None and data["output"] == "b'hello hello'\n"
