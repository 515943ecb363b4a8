"""index audit events by actor, action and time

A support agent's view is recorded once per half hour: each page view asks whether
this agent has a recent event of this kind, which this index answers directly.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(
            'ix_audit_event_actor_action_at', ['actor_id', 'action', 'at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_actor_action_at')
