"""Knowledge distillation: the student learns the teacher's whole next-character distribution.

Written here rather than taken from TextBrewer: its distillers run their own training loop, which
saves the student's weights but not the optimizer, the data position or the random state, so a run
stopped mid-way cannot resume as `model.train` does; the loss itself is these few lines.
"""

from __future__ import annotations

import torch


class _SoftTargetKL(torch.autograd.Function):
    """KL(teacher_T || student_T) · T² over rows of logits, with its gradient written out,
    T · (softmax(student / T) - softmax(teacher / T)) / rows: autograd through log_softmax and
    kl_div kept several vocabulary-wide temporaries, and the loss cost as much as the student's
    whole step (model card: "The distillation loss was half the distilled step's extra cost")."""

    @staticmethod
    def forward(ctx, student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
        log_student = torch.log_softmax(student.to(torch.float32, copy=True).div_(temperature), dim=-1)
        log_teacher = torch.log_softmax(teacher.to(torch.float32, copy=True).div_(temperature), dim=-1)
        teacher_p = log_teacher.exp()
        kl = torch.dot(teacher_p.view(-1), log_teacher.sub_(log_student).view(-1)) / student.size(0)
        ctx.save_for_backward(log_student.exp_().sub_(teacher_p))
        ctx.temperature, ctx.dtype = temperature, student.dtype
        return kl * temperature**2

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (difference,) = ctx.saved_tensors
        scale = grad * ctx.temperature / difference.size(0)
        return (difference * scale).to(ctx.dtype), None, None


def kd_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, mask: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Mean over the positions where mask is true of KL(teacher_T || student_T) · T², where _T is
    the softmax at the temperature (Hinton et al.; T² keeps the gradient's scale as T changes)."""
    return _SoftTargetKL.apply(student_logits[mask], teacher_logits[mask], temperature)
