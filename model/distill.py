"""Knowledge distillation: the student learns the teacher's whole next-character distribution.

Written here rather than taken from TextBrewer: its distillers run their own training loop, which
saves the student's weights but not the optimizer, the data position or the random state, so a run
stopped mid-way cannot resume as `model.train` does; the loss itself is these few lines.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, mask: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Mean over the positions where mask is true of KL(teacher_T || student_T) · T², where _T is
    the softmax at the temperature (Hinton et al.; T² keeps the gradient's scale as T changes)."""
    student = F.log_softmax(student_logits[mask].float() / temperature, dim=-1)
    teacher = F.log_softmax(teacher_logits[mask].float() / temperature, dim=-1)
    kl = F.kl_div(student, teacher, log_target=True, reduction="batchmean")
    return kl * temperature**2
