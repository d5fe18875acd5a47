"""The jobs of a search space: every candidate but the original, split per block at block granularity."""

from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.runtime.distill import DistillError, plan_jobs
from archc.runtime.distill.plan import entry_stem, job_seed, job_stem

from distill_helpers import Micro


def test_every_candidate_but_the_original(micro: Micro) -> None:
    jobs = plan_jobs(archc.parse(micro.spec))
    assert [j.id for j in jobs] == [
        f"{s}={c}" for s in ("enc1", "enc2", "dec1") for c in ("naf(sca=off)", "dsconv", "identity")
    ]
    enc2 = [j for j in jobs if j.slot == "enc2"]
    assert {(j.start, j.stop, j.repeat) for j in enc2} == {(0, 2, 2)}


def test_block_granularity_splits_multi_block_slots_except_identity(micro: Micro) -> None:
    jobs = plan_jobs(archc.parse(micro.spec), ["enc2", "enc1"], "block")
    assert [j.id for j in jobs] == [
        "enc1=naf(sca=off)",
        "enc1=dsconv",
        "enc1=identity",
        "enc2=naf(sca=off)@0",
        "enc2=naf(sca=off)@1",
        "enc2=dsconv@0",
        "enc2=dsconv@1",
        "enc2=identity",
    ]
    part = jobs[4]
    assert (part.start, part.stop, part.offsets, part.entry) == (1, 2, (1, 2), ("enc2", "naf(sca=off)"))


def test_names_and_seeds_are_stable_and_distinct(micro: Micro) -> None:
    jobs = plan_jobs(archc.parse(micro.spec), None, "block")
    assert len({job_stem(j) for j in jobs}) == len(jobs)
    assert len({job_seed(0, j) for j in jobs}) == len(jobs)
    assert job_seed(0, jobs[0]) == job_seed(0, plan_jobs(archc.parse(micro.spec))[0]) != job_seed(1, jobs[0])
    assert entry_stem("enc1", "naf(sca=off)").startswith("enc1.naf_sca_off.")


def test_unknown_slot_is_an_error_with_a_guess(micro: Micro) -> None:
    with pytest.raises(DistillError, match="`enc3` is not a searchable slot") as err:
        plan_jobs(archc.parse(micro.spec), ["enc3"])
    assert err.value.diagnostics[0].code == "E1109"
    assert "did you mean" in (err.value.diagnostics[0].help or "")


def test_a_spec_without_search_has_nothing_to_distill(tmp_path: Path, micro: Micro) -> None:
    path = tmp_path / "plain.arch"
    path.write_text(micro.spec.read_text().split("search over")[0])
    with pytest.raises(DistillError, match="no search block"):
        plan_jobs(archc.parse(path))
