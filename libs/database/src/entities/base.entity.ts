import { newId } from '@app/common';
import { BeforeInsert, CreateDateColumn, PrimaryColumn } from 'typeorm';

/** UUIDv7 primary key generated in the app, and a creation time. */
export abstract class BaseEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @BeforeInsert()
  assignId(): void {
    if (!this.id) this.id = newId();
  }
}
