import { EmailField } from '../../common/dto-fields';

export class ForgotPasswordDto {
  @EmailField()
  email!: string;
}
