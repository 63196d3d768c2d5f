"""A generation bred on demand: rows as a tensor would give them, each bred once."""

import torch

from evogan.bred import Bred, whole

PARENTS = torch.tensor([[1.0, 2.0], [10.0, 20.0]])


class Counting:
    """A rebuild whose row ``r`` is ``parents.sum(0) + r``, recording the rows asked for."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def __call__(self, parents, lineage, rows):
        self.asked.append(rows.tolist())
        return parents.sum(0) + rows[:, None].float()


def expected(rows: list[int]) -> torch.Tensor:
    return torch.tensor([[11.0 + r, 22.0 + r] for r in rows])


def test_rows_come_in_the_order_asked_and_each_is_bred_once():
    rebuild = Counting()
    bred = Bred(6, PARENTS, None, rebuild)
    assert len(bred) == 6 and bred.shape == (6, 2) and bred.bred == 0
    assert torch.equal(bred[torch.tensor([4, 1, 4])], expected([4, 1, 4]))
    assert torch.equal(bred[3], expected([3])[0])
    assert torch.equal(bred[-2], expected([4])[0])  # from the end, as a tensor counts
    assert torch.equal(bred[torch.tensor([3, 4, 0])], expected([3, 4, 0]))
    assert rebuild.asked == [[1, 4], [3], [0]]  # increasing, none twice
    assert bred.bred == 4


def test_whole_breeds_the_rest_once_and_then_reads_in_place():
    rebuild = Counting()
    bred = Bred(4, PARENTS, None, rebuild)
    bred[torch.tensor([2])]
    genomes = whole(bred)
    assert torch.equal(genomes, expected([0, 1, 2, 3]))
    assert whole(bred) is genomes and rebuild.asked == [[2], [0, 1, 3]]
    tensor = torch.zeros(3, 2)
    assert whole(tensor) is tensor


def test_in_place_breeds_the_rows_asked_for_where_they_stand():
    rebuild = Counting()
    bred = Bred(5, PARENTS, None, rebuild)
    genomes = bred.in_place(torch.tensor([1, 3]))
    assert genomes.shape == (5, 2) and torch.equal(genomes[[1, 3]], expected([1, 3]))
    assert rebuild.asked == [[1, 3]] and bred.bred == 2
