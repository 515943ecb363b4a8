"""remember what Constant Contact said about the customer's app

Step 1 asks Constant Contact about the app as soon as the API Key is pasted (the
app check); the answer and its time are kept, so later pages and support see it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_check', sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column('app_checked_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.drop_column('app_checked_at')
        batch_op.drop_column('app_check')
